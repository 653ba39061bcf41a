"""Tenant-wide reads for staff audit, exports and the nightly audit.

Same SQL style as selectors.py, but scoped to a whole tenant instead of one membership. Every
query starts from ``payload->>'app_id' = <tenant.slug>``: there is no function here that can
read across tenants (except ``memories_without_app_id_count``, which returns only a number).

Filters arrive as an ``AuditFilter`` whose person/agent/session fields are ``None`` (no
condition), ``ANY`` (any non-null value, what mem0's ``"*"`` means) or a concrete id that the
caller picked from ``tenant_filter_choices`` — never a raw request value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from . import _rows
from ._rows import fetch as _fetch
from .errors import InvalidInput
from .models import Membership, Tenant
from .records import TABLE, MemoryPage, MemoryRecord, ScopeCount
from .validation import clean_optional_id, clean_page, clean_query

#: "any non-null value" for person/agent/session filters (the seed's ``"*"``, made explicit).
ANY = "__any__"

#: filter key -> the mem0 payload key it constrains
_SCOPE_KEYS = {"person": "user_id", "agent": "agent_id", "session": "run_id"}


@dataclass(frozen=True)
class AuditFilter:
    person: str | None = None  # a subject_id, ANY or None
    agent: str | None = None
    session: str | None = None
    text: str | None = None  # substring of the memory text (ILIKE, wildcards escaped)
    date_from: date | None = None
    date_to: date | None = None  # inclusive

    def as_dict(self) -> dict[str, Any]:
        """The exact filter, JSON-ready, for the page and the access log (never memory text)."""
        out: dict[str, Any] = {}
        for key in ("person", "agent", "session", "text"):
            value = getattr(self, key)
            if value is not None:
                out[key] = "any" if value == ANY else value
        if self.date_from:
            out["date_from"] = self.date_from.isoformat()
        if self.date_to:
            out["date_to"] = self.date_to.isoformat()
        return out


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _tenant_sql(tenant: Tenant, flt: AuditFilter | None = None) -> tuple[str, list[Any]]:
    where = ["payload->>'app_id' = %s"]
    params: list[Any] = [tenant.slug]
    flt = flt or AuditFilter()
    for field, key in _SCOPE_KEYS.items():
        value = getattr(flt, field)
        if value is None:
            continue
        if value == ANY:
            # mem0's "*" on pgvector is `payload ? key`; a JSON null must not count as a value.
            where.append(f"payload->>'{key}' IS NOT NULL")
        else:
            where.append(f"payload->>'{key}' = %s")
            params.append(clean_optional_id(value, field=field))
    if flt.text:
        where.append("payload->>'data' ILIKE %s ESCAPE '\\'")
        params.append("%" + _like_escape(clean_query(flt.text)) + "%")
    # created_at is mem0's ISO string with offset; compare as timestamptz (UTC day bounds).
    if flt.date_from:
        where.append("(payload->>'created_at')::timestamptz >= %s")
        params.append(datetime.combine(flt.date_from, time.min).isoformat() + "+00:00")
    # The last day Python can represent (9999-12-31) has no "day after" (OverflowError, a 500):
    # as an upper bound it can only mean "no upper bound": mem0 writes created_at from Python, so
    # none lies beyond it.
    if flt.date_to and flt.date_to < date.max:
        where.append("(payload->>'created_at')::timestamptz < %s")
        params.append(datetime.combine(flt.date_to + timedelta(days=1), time.min).isoformat() + "+00:00")
    return " AND ".join(where), params


def tenant_memory_count(*, tenant: Tenant, flt: AuditFilter | None = None) -> int:
    where, params = _tenant_sql(tenant, flt)
    return _fetch(f"SELECT count(*) FROM {TABLE} WHERE {where}", params)[0][0]


def tenant_memory_page(
    *, tenant: Tenant, flt: AuditFilter | None = None, page: int = 1, page_size: int = 50
) -> MemoryPage:
    """Newest first across the tenant's people, stable (ties broken by id)."""
    page, page_size = clean_page(page, page_size)
    where, params = _tenant_sql(tenant, flt)
    return _rows.page_of(where=where, params=params, page=page, page_size=page_size)


def tenant_memory_search(
    *, tenant: Tenant, query: str, flt: AuditFilter | None = None, limit: int = 50
) -> list[MemoryRecord]:
    """Exact semantic search inside the tenant (and the filter), best first (score = cosine)."""
    query = clean_query(query)
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput("limit", "must be between 1 and 1000")
    where, params = _tenant_sql(tenant, flt)
    return _rows.ranked(where=where, params=params, query=query, limit=limit)


def tenant_memory_iter(
    *, tenant: Tenant, flt: AuditFilter | None = None, batch_size: int = 500
) -> Iterator[MemoryRecord]:
    """Every matching memory, oldest first, in keyset batches: memory use is one batch, not the tenant."""
    where, params = _tenant_sql(tenant, flt)
    return _rows.keyset_iter(where=where, params=params, batch_size=batch_size)


#: The columns of ``tenant_export_batches`` rows, in order: what every export line carries.
EXPORT_COLUMNS = (
    "id", "app_id", "subject_id", "agent_id", "run_id", "role", "text", "created_at", "updated_at", "metadata",
)
_EXPORT_SQL = (
    "id::text AS memory_id, payload->>'app_id', payload->>'user_id', payload->>'agent_id', payload->>'run_id', "
    "payload->>'role', payload->>'data', payload->>'created_at', payload->>'updated_at', "
    + _rows.METADATA_SQL
)


def tenant_export_batches(
    *, tenant: Tenant, flt: AuditFilter | None = None, batch_size: int = 5000
) -> Iterator[list[tuple]]:
    """Every matching memory as plain tuples (``EXPORT_COLUMNS``), person by person, oldest first.

    Built for exports of whole tenants: the keyset walks the (app_id, user_id, created_at) btree
    index in its own order (no sort of the tenant per batch), PostgreSQL extracts the fields and
    the custom metadata (no payload parsed in Python, no record objects), and memory use is one
    batch. Times are mem0's stored ISO strings.
    """
    where, params = _tenant_sql(tenant, flt)
    return _rows.keyset_batches(
        where=where, params=params, order=_rows.PERSON_ORDER, batch_size=batch_size,
        columns=_EXPORT_SQL, column_params=[_rows.CORE_KEYS],
    )


def tenant_subject_counts(*, tenant: Tenant, flt: AuditFilter | None = None) -> tuple[list[str], int]:
    """Whose memories a filter covers and how many memories in all, in one scan (for the access log)."""
    where, params = _tenant_sql(tenant, flt)
    rows = _fetch(f"SELECT payload->>'user_id', count(*) FROM {TABLE} WHERE {where} GROUP BY 1", params)
    return sorted(r[0] for r in rows if r[0]), sum(r[1] for r in rows)


def tenant_subject_ids(*, tenant: Tenant, flt: AuditFilter | None = None) -> list[str]:
    """Whose memories a filter covers (for the access log of an export)."""
    where, params = _tenant_sql(tenant, flt)
    rows = _fetch(f"SELECT DISTINCT payload->>'user_id' FROM {TABLE} WHERE {where}", params)
    return sorted(r[0] for r in rows if r[0])


def tenant_scope_counts(*, tenant: Tenant, key: str, flt: AuditFilter | None = None) -> list[ScopeCount]:
    """Counts per person (key='user_id'), agent ('agent_id') or session ('run_id'), largest first."""
    if key not in {"user_id", "agent_id", "run_id"}:
        raise InvalidInput("key", "must be user_id, agent_id or run_id")
    where, params = _tenant_sql(tenant, flt)
    rows = _fetch(
        f"SELECT payload->>'{key}' AS v, count(*) FROM {TABLE} "
        f"WHERE {where} AND payload->>'{key}' IS NOT NULL GROUP BY v ORDER BY count(*) DESC, v",
        params,
    )
    return [ScopeCount(r[0], r[1]) for r in rows]


@dataclass(frozen=True)
class FilterChoices:
    """The only values a staff filter may take: what exists in the tenant right now."""

    people: list[tuple[str, str]]  # (subject_id, label)
    agents: list[str]
    sessions: list[str]


def membership_label(member: Membership) -> str:
    if member.user_id and member.user and member.user.email:
        return member.user.email
    return member.external_id or member.subject_id


def tenant_people_labels(*, tenant: Tenant) -> dict[str, str]:
    """subject_id -> a human label (email or the app's external id), every membership ever."""
    members = Membership.objects.filter(tenant=tenant).select_related("user").order_by("created_at")
    return {m.subject_id: membership_label(m) + (" (ended)" if m.ended_at else "") for m in members}


def tenant_filter_choices(*, tenant: Tenant) -> FilterChoices:
    labels = tenant_people_labels(tenant=tenant)
    with_memories = [c.value for c in tenant_scope_counts(tenant=tenant, key="user_id")]
    people = {s: labels.get(s, s) for s in with_memories}
    for subject, label in labels.items():
        people.setdefault(subject, label)
    return FilterChoices(
        people=sorted(people.items(), key=lambda p: p[1].lower()),
        agents=sorted(c.value for c in tenant_scope_counts(tenant=tenant, key="agent_id")),
        sessions=sorted(c.value for c in tenant_scope_counts(tenant=tenant, key="run_id")),
    )


def tenant_orphan_counts(*, tenant: Tenant) -> list[ScopeCount]:
    """Memories under the tenant's app_id whose person is no longer (or never was) an active member."""
    active = list(
        Membership.objects.filter(tenant=tenant, ended_at__isnull=True).values_list("subject_id", flat=True)
    )
    rows = _fetch(
        f"SELECT payload->>'user_id' AS v, count(*) FROM {TABLE} WHERE payload->>'app_id' = %s "
        "AND NOT (coalesce(payload->>'user_id', '') = ANY(%s)) GROUP BY v ORDER BY count(*) DESC, v",
        [tenant.slug, active],
    )
    return [ScopeCount(r[0] or "", r[1]) for r in rows]


def memories_without_app_id_count() -> int:
    """Memories no tenant query can reach (no app_id at all). A number only: they have no tenant."""
    return _fetch(f"SELECT count(*) FROM {TABLE} WHERE payload->>'app_id' IS NULL", [])[0][0]
