"""The tenant audit: counts per person, agent and session, and what needs a look.

``manage.py audit_app`` prints it; the ``staff.nightly_audit`` periodic task (03:00 UTC, once
per schedule across all workers) stores one ``TenantAuditReport`` per live tenant, which staff
see on the tenant's audit page and download as JSON.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from memportal.memory import tenant_selectors
from memportal.memory.models import ErasureReceipt, Membership, Tenant
from memportal.memory.retention import months_before
from memportal.memory.tenant_selectors import AuditFilter

from .models import TenantAuditReport

#: Without an auto-delete default for the tenant, memories older than this are reported.
DEFAULT_RETENTION_DAYS = 365

#: A stored nightly report keeps the largest this many people, agents and sessions (with the
#: totals): unbounded, every session was a row (9.8 MB of JSON a night for a 500k-memory tenant).
STORED_TOP = 1000


def retention_days(tenant: Tenant, *, now: datetime) -> int:
    """The tenant's auto-delete default (set by staff) in days, or DEFAULT_RETENTION_DAYS."""
    months = getattr(tenant, "retention_months", None)
    if not months:
        return DEFAULT_RETENTION_DAYS
    return (now - months_before(now, months)).days


def audit_report(tenant: Tenant, *, labels: bool = True, top: int | None = None) -> dict[str, Any]:
    """The audit of one tenant now. ``labels=False`` leaves out people's labels (emails, the app's
    ids): a stored report keeps only subject ids and counts, never an identifier erasure removes.
    ``top`` keeps the largest ``top`` rows of each per-person/agent/session list (totals stay exact)."""
    names = tenant_selectors.tenant_people_labels(tenant=tenant) if labels else {}
    active = set(Membership.objects.filter(tenant=tenant, ended_at__isnull=True).values_list("subject_id", flat=True))

    def rows(key: str) -> list[dict]:
        return [{"value": c.value, "count": c.count}
                for c in tenant_selectors.tenant_scope_counts(tenant=tenant, key=key)]

    def largest(items: list[dict]) -> list[dict]:
        return items if top is None else items[:top]  # tenant_scope_counts gives them largest first

    per_person = [
        {**row, **({"label": names.get(row["value"], "")} if labels else {}), "member": row["value"] in active}
        for row in rows("user_id")
    ]
    per_agent, per_session = rows("agent_id"), rows("run_id")
    orphans = tenant_selectors.tenant_orphan_counts(tenant=tenant)
    now = timezone.now()
    days = retention_days(tenant, now=now)
    # Created before the first day inside the retention window (AuditFilter.date_to is inclusive).
    before = (now - timedelta(days=days)).date() - timedelta(days=1)
    erasures = ErasureReceipt.objects.filter(tenant=tenant, finished_at__gte=now - timedelta(days=1))
    by_kind: dict[str, int] = {}
    for kind in erasures.values_list("kind", flat=True):
        by_kind[kind] = by_kind.get(kind, 0) + 1
    return {
        "app_id": tenant.slug,
        "at": now.isoformat(),
        "memories": tenant_selectors.tenant_memory_count(tenant=tenant),
        "people": len(per_person),
        "agents": len(per_agent),
        "sessions": len(per_session),
        "lists_cut_to": top,
        "per_person": largest(per_person),
        "per_agent": largest(per_agent),
        "per_session": largest(per_session),
        "retention": {
            "days": days, "months": getattr(tenant, "retention_months", None) or None,
            "default": not getattr(tenant, "retention_months", None),
            "memories_older": tenant_selectors.tenant_memory_count(tenant=tenant, flt=AuditFilter(date_to=before)),
        },
        "people_paused": Membership.objects.filter(tenant=tenant, ended_at__isnull=True, memory_paused=True).count(),
        "erasures_last_day": {"total": sum(by_kind.values()), "by_kind": by_kind},
        "anomalies": {
            "memories_without_app_id_global": tenant_selectors.memories_without_app_id_count(),
            "memories_of_non_members": sum(o.count for o in orphans),
            "non_member_subjects": [{"value": o.value, "count": o.count} for o in orphans],
        },
    }


def audit_report_store(*, tenant: Tenant, scheduled_for: datetime | None = None) -> TenantAuditReport:
    """Write the tenant's report (once per schedule: a retried nightly run skips tenants done)."""
    if scheduled_for is not None:
        done = TenantAuditReport.objects.filter(tenant=tenant, scheduled_for=scheduled_for).first()
        if done is not None:
            return done
    started = time.monotonic()
    counts = audit_report(tenant, labels=False, top=STORED_TOP)
    try:
        with transaction.atomic():
            return TenantAuditReport.objects.create(
                tenant=tenant, scheduled_for=scheduled_for, counts=counts, run_seconds=time.monotonic() - started
            )
    except IntegrityError:  # another run of the same schedule got there first
        return TenantAuditReport.objects.get(tenant=tenant, scheduled_for=scheduled_for)


def nightly_audit_run(*, scheduled_for: datetime) -> list[TenantAuditReport]:
    """One report per live tenant for this schedule."""
    return [audit_report_store(tenant=t, scheduled_for=scheduled_for)
            for t in Tenant.objects.filter(offboarded_at__isnull=True).order_by("pk")]
