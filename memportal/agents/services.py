"""Writes for app keys and portal links."""

from __future__ import annotations

import os
import re
import secrets
import socket
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from memportal import access, queue
from memportal.memory import api_selectors
from memportal.memory.api_selectors import ANY, Clause
from memportal.memory.errors import InvalidInput
from memportal.memory.models import Membership, Tenant

from .models import AppKey, KeyRead, PortalToken, TenantDeleteJob, token_hash

KEY_PATTERN = re.compile(r"^mpk_([a-z0-9]{8,16})_([A-Za-z0-9_\-]{32,128})$")
PERMISSIONS = frozenset({"read", "write", "tenant_admin"})
PORTAL_TOKEN_TTL = timedelta(minutes=5)


def appkey_create(
    *,
    tenant: Tenant,
    name: str,
    permissions: Iterable[str] = ("read", "write"),
    created_by: AbstractBaseUser | None = None,
    expires_at: datetime | None = None,
    raw_key: str | None = None,
) -> tuple[AppKey, str]:
    """Create a key; returns it with the raw secret, which is never shown again.

    ``raw_key`` lets ``seed_demo`` install a documented demo key; it must look like a real one
    (``mpk_<8-16 lowercase/digits>_<32+ url-safe chars>``).
    """
    perms = set(permissions)
    if not perms or perms - PERMISSIONS:
        raise InvalidInput("permissions", f"choose from {', '.join(sorted(PERMISSIONS))}")
    access.key_grant_check(creator=created_by, permissions=perms)
    if raw_key is None:
        raw_key = f"mpk_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    match = KEY_PATTERN.fullmatch(raw_key)
    if match is None:
        raise InvalidInput("raw_key", "must look like mpk_<8-16 lowercase letters/digits>_<32+ characters>")
    key = AppKey.objects.create(
        tenant=tenant, name=name.strip()[:100] or "app key", prefix=match.group(1), secret_hash=token_hash(raw_key),
        can_read="read" in perms, can_write="write" in perms, can_admin="tenant_admin" in perms,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
        expires_at=expires_at,
    )
    return key, raw_key


def appkey_revoke(*, key: AppKey) -> AppKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        AppKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=key.revoked_at)
    return key


def appkey_touch(*, key: AppKey) -> None:
    """Record use, at most once a minute per key (a write per request would be wasteful)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        AppKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def portal_token_create(*, member: Membership, app_key: AppKey | None = None) -> tuple[PortalToken, str]:
    raw = secrets.token_urlsafe(32)
    token = PortalToken.objects.create(
        token_hash=token_hash(raw), membership=member, app_key=app_key,
        expires_at=timezone.now() + PORTAL_TOKEN_TTL,
    )
    return token, raw


def portal_token_redeem(*, raw: str) -> AbstractBaseUser | None:
    """Spend a portal link (after the person pressed "Continue"): the Django user of exactly its
    membership, or None for a link that can no longer be used (memportal.access.access_portal_link).

    One use only (the row is locked and stamped in one transaction). A membership created by an
    app server has no Django user yet: it gets one with an unusable password and no email, so
    the person can only come back through a link.
    """
    with transaction.atomic():
        try:
            token = access.access_portal_link(raw=raw, lock=True)
        except access.NotFound:
            return None
        member = Membership.objects.select_for_update().get(pk=token.membership_id)
        if member.ended_at is not None:
            return None
        token.used_at = timezone.now()
        token.save(update_fields=["used_at"])
        if member.user_id is None:
            User = get_user_model()
            user = User(username="portal_" + secrets.token_hex(12), email="")
            user.set_unusable_password()
            user.save()
            member.user = user
            member.save(update_fields=["user"])
        return member.user


def key_read_record(*, key: AppKey, action: str, counts: dict[str, int], everyone: bool) -> None:
    """Count a read made with ``key`` as a look at each person whose memories it returned.

    ``counts``: subject id -> memories returned. One upsert per person: the row of (key, person,
    day, action, scope) gains a request and the memories, so the log grows per day, not per request.
    """
    if not counts:
        return
    now = timezone.now()
    table = KeyRead._meta.db_table
    scope = "everyone" if everyone else "person"
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (app_key_id, tenant_id, subject_id, day, action, scope, requests, memories, "
            "first_at, last_at) VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s, %s) "
            "ON CONFLICT (app_key_id, subject_id, day, action, scope) DO UPDATE SET "
            f"requests = {table}.requests + 1, memories = {table}.memories + EXCLUDED.memories, "
            "last_at = EXCLUDED.last_at",
            [
                (key.pk, key.tenant_id, subject, now.date(), action, scope, n, now, now)
                for subject, n in sorted(counts.items())
            ],
        )


# --- tenant-wide deletes (a queued job per request) ---------------------------------------------------
def tenant_delete_start(*, key: AppKey, agent_id: str | None, run_id: str | None) -> TenantDeleteJob:
    """Queue the erasure of every named person's memories of an agent and/or session in the key's
    tenant; the worker runs it (``tasks.tenant_delete_task``) after this commits."""
    from . import tasks  # the task module imports this one

    with transaction.atomic():
        job = TenantDeleteJob.objects.create(tenant=key.tenant, app_key=key, agent_id=agent_id or "",
                                             run_id=run_id or "")
        queue.defer_on_commit(tasks.tenant_delete_task, job_id=str(job.pk), lock=f"tenant-delete:{key.tenant_id}",
                              queueing_lock=f"tenant-delete:{job.pk}")
    return job


def _delete_clauses(job: TenantDeleteJob) -> list[Clause]:
    return [Clause(subject_id=ANY, agent_id=job.agent_id or None, run_id=job.run_id or None)]


def tenant_delete_execute(
    *, job: TenantDeleteJob, worker: str | None = None, max_people: int | None = None, pause_seconds: float = 0.0,
) -> TenantDeleteJob:
    """Run (or resume) the job in this process: the task's body, and tests'.

    Each person's erasure and the job's counters commit together; a resumed job finds only the
    people who still have memories in the scope, so nobody is erased (or counted) twice.
    Returns the job still "running" when another process holds it or after ``max_people``.
    """
    from memportal.memory import services as memory_services

    job.refresh_from_db()
    if not job.active:
        return job
    with queue.advisory_lock(f"memportal:tenant-delete:{job.pk}") as got:
        if not got:
            return job
        now = timezone.now()
        job.state = TenantDeleteJob.State.RUNNING
        job.attempts += 1
        job.worker = (worker or f"{socket.gethostname()}:{os.getpid()}")[:100]
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.save(update_fields=["state", "attempts", "worker", "started_at", "heartbeat_at"])
        try:
            members = api_selectors.members_in_scope(tenant=job.tenant, clauses=_delete_clauses(job))
            job.people_total = max(job.people_total or 0, job.people_done + len(members))
            job.save(update_fields=["people_total"])
            for n, member in enumerate(members):
                if max_people is not None and n >= max_people:
                    return job
                with transaction.atomic():
                    receipt = memory_services.memory_delete_all(
                        member=member, agent_id=job.agent_id or None, run_id=job.run_id or None, via="api"
                    )
                    job.receipts.add(receipt)
                    job.people_done += 1
                    job.memories_erased += receipt.memories_erased
                    job.heartbeat_at = timezone.now()
                    job.save(update_fields=["people_done", "memories_erased", "heartbeat_at"])
                if pause_seconds:
                    time.sleep(pause_seconds)
            left = len(api_selectors.members_in_scope(tenant=job.tenant, clauses=_delete_clauses(job)))
            receipts = list(job.receipts.values_list("remaining_after", flat=True))
            job.verification = {
                "people_left": left, "receipts": len(receipts),
                "receipts_remaining": sum(r or 0 for r in receipts),
                "method": "people with memories in the scope counted again; each receipt verified on its own",
            }
            job.state = TenantDeleteJob.State.DONE if left == 0 else TenantDeleteJob.State.FAILED
            job.error = "" if left == 0 else "people left in the scope"
            job.finished_at = timezone.now()
            job.save(update_fields=["verification", "state", "error", "finished_at"])
            return job
        except Exception as exc:
            job.state = TenantDeleteJob.State.FAILED
            job.error = type(exc).__name__  # the type only: a database message may quote a row
            job.finished_at = timezone.now()
            job.save(update_fields=["state", "error", "finished_at"])
            raise
