"""Tenant-wide reads for staff audit, exports and the nightly audit.

Same SQL style as selectors.py, but scoped to a whole tenant instead of one membership. Every
query starts from ``payload->>'app_id' = <tenant.slug>``: there is no function here that can
read across tenants (except ``memories_without_app_id_count``, which returns only a number).

Filters arrive as an ``AuditFilter`` whose person/agent/session fields are ``None`` (no
condition), ``ANY`` (any non-null value, what mem0's ``"*"`` means) or a concrete id that the
caller resolved inside the tenant (``person_resolve``, ``scope_value_exists``) — never a raw
request value.

The staff page's reads are bounded: lookups (``person_suggestions``, ``scope_suggestions``) and
summaries (``tenant_scope_top``) carry a LIMIT, and labels are read only for the subject ids
shown (``people_labels``). ``tenant_people_labels``/``tenant_scope_counts`` read a whole tenant:
they are for exports, the nightly audit and offboarding, never for a page.
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
from .validation import ID_PATTERN, clean_optional_id, clean_page, clean_query

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
        elif key == "user_id":
            where.append(f"payload->>'{key}' = %s")
            params.append(clean_optional_id(value, field=field))
        else:
            # "C" collation: the (app_id, agent_id/run_id) indexes are built in it (equality is the same).
            where.append(f"(payload->>'{key}') COLLATE \"C\" = %s")
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
    *, tenant: Tenant, flt: AuditFilter | None = None, page: int = 1, page_size: int = 50,
    total: int | None = None,
) -> MemoryPage:
    """Newest first across the tenant's people, stable (ties broken by id).

    ``total``: already counted for this exact filter (``tenant_summary``), so no count query."""
    page, page_size = clean_page(page, page_size)
    where, params = _tenant_sql(tenant, flt)
    return _rows.page_of(where=where, params=params, page=page, page_size=page_size, total=total)


def tenant_memory_search(
    *, tenant: Tenant, query: str, flt: AuditFilter | None = None, limit: int = 50, floor: bool = True,
) -> list[MemoryRecord]:
    """Search inside the tenant (and the filter), best first: the same hybrid ranking and
    relevance floor as the person's own search (``memory.ranking``)."""
    query = clean_query(query)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput("limit", "must be between 1 and 1000")
    where, params = _tenant_sql(tenant, flt)
    return _rows.searched(where=where, params=params, query=query, limit=limit, floor=floor)


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


def tenant_subject_tally(*, tenant: Tenant, flt: AuditFilter | None = None) -> dict[str, int]:
    """{subject id: how many of its memories a filter covers}, in one scan (for the access log)."""
    where, params = _tenant_sql(tenant, flt)
    rows = _fetch(f"SELECT payload->>'user_id', count(*) FROM {TABLE} WHERE {where} GROUP BY 1", params)
    return {r[0]: r[1] for r in rows if r[0]}


def tenant_subject_ids(*, tenant: Tenant, flt: AuditFilter | None = None) -> list[str]:
    """Whose memories a filter covers (for the access log of an export)."""
    where, params = _tenant_sql(tenant, flt)
    rows = _fetch(f"SELECT DISTINCT payload->>'user_id' FROM {TABLE} WHERE {where}", params)
    return sorted(r[0] for r in rows if r[0])


def tenant_scope_counts(
    *, tenant: Tenant, key: str, flt: AuditFilter | None = None, limit: int | None = None
) -> list[ScopeCount]:
    """Counts per person (key='user_id'), agent ('agent_id') or session ('run_id'), largest first;
    the ``limit`` largest when given (one query either way)."""
    if key not in {"user_id", "agent_id", "run_id"}:
        raise InvalidInput("key", "must be user_id, agent_id or run_id")
    where, params = _tenant_sql(tenant, flt)
    sql = (f"SELECT payload->>'{key}' AS v, count(*) FROM {TABLE} "
           f"WHERE {where} AND payload->>'{key}' IS NOT NULL GROUP BY v ORDER BY count(*) DESC, v")
    if limit is not None:
        sql, params = sql + " LIMIT %s", [*params, limit]
    return [ScopeCount(r[0], r[1]) for r in _fetch(sql, params)]


#: Suggestions per lookup and rows per summary table on the staff page.
LOOKUP_LIMIT = 20
SUMMARY_LIMIT = 20


def tenant_scope_top(
    *, tenant: Tenant, key: str, flt: AuditFilter | None = None, limit: int = SUMMARY_LIMIT
) -> list[ScopeCount]:
    """The ``limit`` largest counts per person/agent/session for a filter: one query, bounded output."""
    return tenant_scope_counts(tenant=tenant, key=key, flt=flt, limit=limit)


@dataclass(frozen=True)
class TenantSummary:
    total: int
    people: list[ScopeCount]  # the ``limit`` largest, largest first
    agents: list[ScopeCount]


def tenant_summary(*, tenant: Tenant, flt: AuditFilter | None = None, limit: int = SUMMARY_LIMIT) -> TenantSummary:
    """The filter's total and its ``limit`` largest people and agents: one scan, one query, bounded rows.

    GROUPING SETS count per person, per agent and overall in a single pass over the matching rows;
    a window keeps the ``limit`` largest of each (ties by value), so at most 2 * limit + 1 rows return.
    """
    where, params = _tenant_sql(tenant, flt)
    u, a = "payload->>'user_id'", "payload->>'agent_id'"
    rows = _fetch(
        f"WITH g AS (SELECT {u} AS u, {a} AS a, GROUPING({u}, {a}) AS gid, count(*) AS c FROM {TABLE} "
        f"WHERE {where} GROUP BY GROUPING SETS (({u}), ({a}), ())), "
        "r AS (SELECT gid, u, a, c, row_number() OVER (PARTITION BY gid ORDER BY c DESC, u, a) AS rn FROM g "
        "WHERE (gid = 1 AND u IS NOT NULL) OR (gid = 2 AND a IS NOT NULL) OR gid = 3) "
        "SELECT gid, u, a, c FROM r WHERE rn <= %s ORDER BY gid, rn",
        [*params, limit],
    )
    total = next((r[3] for r in rows if r[0] == 3), 0)
    return TenantSummary(
        total=total,
        people=[ScopeCount(r[1], r[3]) for r in rows if r[0] == 1],
        agents=[ScopeCount(r[2], r[3]) for r in rows if r[0] == 2],
    )


def _tables() -> tuple[str, str]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    qn = connection.ops.quote_name
    return qn(Membership._meta.db_table), qn(get_user_model()._meta.db_table)


def people_labels(*, tenant: Tenant, subject_ids: list[str] | set[str]) -> dict[str, str]:
    """subject_id -> label for just these subject ids of the tenant (one query)."""
    ids = sorted({s for s in subject_ids if s})
    if not ids:
        return {}
    members = Membership.objects.filter(tenant=tenant, subject_id__in=ids).select_related("user")
    return {m.subject_id: membership_label(m) + (" (ended)" if m.ended_at else "") for m in members}


@dataclass(frozen=True)
class PersonSuggestion:
    value: str  # what the filter field receives: the label, or the subject id for an ended membership
    label: str


def _prefix_pattern(prefix: str) -> str:
    return _like_escape(prefix) + "%"


def person_suggestions(*, tenant: Tenant, prefix: str, limit: int = LOOKUP_LIMIT) -> list[PersonSuggestion]:
    """People of the tenant whose email or external id starts with ``prefix`` (case-insensitive).

    One query: two LIMITed branches, each walking its "C"-collation index in order.
    """
    members, users = _tables()
    pattern = _prefix_pattern(prefix)
    rows = _fetch(
        "SELECT subject_id, email, external_id, ended, k, via FROM ("
        f"(SELECT m.subject_id, u.email, m.external_id, m.ended_at IS NOT NULL AS ended, "
        f"upper(u.email) COLLATE \"C\" AS k, 'email' AS via FROM {users} u JOIN {members} m ON m.user_id = u.id "
        f"WHERE m.tenant_id = %s AND upper(u.email) COLLATE \"C\" LIKE upper(%s) ESCAPE '\\' "
        f"ORDER BY upper(u.email) COLLATE \"C\" LIMIT %s) "
        "UNION ALL "
        f"(SELECT m.subject_id, u.email, m.external_id, m.ended_at IS NOT NULL, "
        f"upper(m.external_id) COLLATE \"C\", 'external' FROM {members} m LEFT JOIN {users} u ON u.id = m.user_id "
        f"WHERE m.tenant_id = %s AND upper(m.external_id) COLLATE \"C\" LIKE upper(%s) ESCAPE '\\' "
        f"ORDER BY upper(m.external_id) COLLATE \"C\" LIMIT %s)"
        ") s ORDER BY k, subject_id LIMIT %s",
        [tenant.pk, pattern, limit, tenant.pk, pattern, limit, limit * 2],
    )
    out: list[PersonSuggestion] = []
    seen: set[str] = set()
    for subject_id, email, external_id, ended, _, via in rows:
        if subject_id in seen:
            continue
        seen.add(subject_id)
        matched = email if via == "email" else external_id
        label = email or external_id or subject_id
        if via == "external" and email and external_id != email:
            label = f"{email} ({external_id})"
        if ended:
            out.append(PersonSuggestion(subject_id, f"{label} (ended)"))
        else:
            out.append(PersonSuggestion(matched, label))
        if len(out) >= limit:
            break
    return out


def person_resolve(*, tenant: Tenant, value: str) -> str:
    """The subject id a typed person value means inside the tenant, or InvalidInput.

    Accepted: a subject id of one of the tenant's memberships (ended ones included); an email or
    external id of exactly one active membership (else of exactly one ended one), case-insensitive;
    or a subject id that still has memories under the tenant's app_id (a person whose membership
    is gone). Anything else, another tenant's people included, is an error: never a wider filter.
    """
    members, users = _tables()
    value = value.strip()
    rows = _fetch(
        f"SELECT m.subject_id, m.ended_at IS NOT NULL, 'subject' FROM {members} m "
        "WHERE m.tenant_id = %s AND m.subject_id = %s "
        "UNION "
        f"SELECT m.subject_id, m.ended_at IS NOT NULL, 'label' FROM {users} u JOIN {members} m ON m.user_id = u.id "
        "WHERE m.tenant_id = %s AND upper(u.email) COLLATE \"C\" = upper(%s) "
        "UNION "
        f"SELECT m.subject_id, m.ended_at IS NOT NULL, 'label' FROM {members} m "
        "WHERE m.tenant_id = %s AND upper(m.external_id) COLLATE \"C\" = upper(%s) LIMIT 50",
        [tenant.pk, value, tenant.pk, value, tenant.pk, value],
    )
    for subject_id, _, via in rows:
        if via == "subject":
            return subject_id
    for ended in (False, True):
        found = sorted({r[0] for r in rows if r[1] is ended})
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise InvalidInput("person", f"matches {len(found)} people: choose one by its subject id")
    if value and ID_PATTERN.fullmatch(value) and _fetch(
        f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE payload->>'app_id' = %s AND payload->>'user_id' = %s)",
        [tenant.slug, value],
    )[0][0]:
        return value
    raise InvalidInput("person", "no such person in this tenant")


def scope_suggestions(*, tenant: Tenant, key: str, prefix: str, limit: int = LOOKUP_LIMIT) -> list[str]:
    """Distinct agent_id/run_id values of the tenant starting with ``prefix`` (case-sensitive), sorted.

    A loose index scan over (app_id, key COLLATE "C"): one index probe per value returned, so the
    cost is ``limit`` probes whatever the number of memories, agents or sessions in the tenant.
    """
    if key not in {"agent_id", "run_id"}:
        raise InvalidInput("key", "must be agent_id or run_id")
    col = f"(payload->>'{key}') COLLATE \"C\""
    rows = _fetch(
        "WITH RECURSIVE s(v) AS ("
        f"(SELECT {col} FROM {TABLE} WHERE payload->>'app_id' = %s AND {col} >= %s ORDER BY 1 LIMIT 1) "
        "UNION ALL "
        f"SELECT (SELECT {col} FROM {TABLE} WHERE payload->>'app_id' = %s AND {col} > s.v ORDER BY 1 LIMIT 1) "
        "FROM s WHERE s.v IS NOT NULL AND starts_with(s.v, %s)"
        ") SELECT v FROM s WHERE v IS NOT NULL AND starts_with(v, %s) LIMIT %s",
        [tenant.slug, prefix, tenant.slug, prefix, prefix, limit],
    )
    return [r[0] for r in rows]


def scope_value_exists(*, tenant: Tenant, key: str, value: str) -> bool:
    """Whether any memory of the tenant has this agent_id/run_id (one index probe)."""
    if key not in {"agent_id", "run_id"}:
        raise InvalidInput("key", "must be agent_id or run_id")
    return _fetch(
        f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE payload->>'app_id' = %s "
        f"AND (payload->>'{key}') COLLATE \"C\" = %s)",
        [tenant.slug, value],
    )[0][0]


def membership_label(member: Membership) -> str:
    if member.user_id and member.user and member.user.email:
        return member.user.email
    return member.external_id or member.subject_id


def tenant_people_labels(*, tenant: Tenant) -> dict[str, str]:
    """subject_id -> a human label (email or the app's external id), every membership ever.

    Whole tenant: for exports and the nightly audit; pages use ``people_labels``."""
    members = Membership.objects.filter(tenant=tenant).select_related("user").order_by("created_at")
    return {m.subject_id: membership_label(m) + (" (ended)" if m.ended_at else "") for m in members}


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
