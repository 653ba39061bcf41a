"""Tenant-scoped reads for the mem0-compatible API (memportal.agents.api).

The API's filters (after the API has parsed and whitelisted them) arrive here as ``Clause``
objects: an OR of ANDs over user, agent and run. Every query is confined in SQL to the key's
tenant *and* to people the tenant's app knows by its own id (memberships with an
``external_id``): a browser sign-up nobody's app server named is not the app's to read.

``ANY`` ("any non-null value", the platform's ``"*"``) can only appear in a Clause built by
the API's parser; ids themselves are cleaned by ``validation.clean_id``, which refuses ``*``,
so an id can never be mistaken for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import _rows
from ._rows import fetch as _fetch
from .errors import InvalidInput, MemoryNotFound
from .models import Membership, Tenant
from .records import TABLE, MemoryPage, MemoryRecord
from .selectors import _uuid_or_404
from .validation import clean_id, clean_page, clean_query

ANY = "*"
MAX_CLAUSES = 16


@dataclass(frozen=True)
class Clause:
    """One AND-group. ``subject_id`` is a membership's subject id (from tenancy) or ANY."""

    subject_id: str
    agent_id: str | None = None
    run_id: str | None = None


# --- conditions: the rest of the platform's v2 filter grammar, compiled to bound SQL ---------------
@dataclass(frozen=True)
class Pred:
    """One comparison. ``field``: user_id (values are subject ids; None = a person the app does not
    know, which matches nothing), agent_id, run_id, app_id, created_at, updated_at, keywords,
    memory_ids, categories, or ``metadata.<key>``. Built only by the API's filter parser."""

    field: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Cond:
    kind: str  # "and", "or", "not"
    items: tuple[Any, ...]


_ENTITY_FIELDS = {"user_id", "agent_id", "run_id"}
_COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _pred_sql(tenant: Tenant, pred: Pred, params: list[Any]) -> str:
    field, op, value = pred.field, pred.op, pred.value
    if field in _ENTITY_FIELDS:
        column = f"payload->>'{field}'"
        if op == "any":
            return f"{column} IS NOT NULL"
        if op == "eq":
            if value is None:
                return "FALSE"
            params.append(value)
            return f"{column} = %s"
        if op == "in":
            known = [v for v in value if v is not None]
            params.append(known)
            return f"{column} = ANY(%s)"
        if op == "ne":
            if value is None:
                return "TRUE"
            params.append(value)
            return f"{column} IS DISTINCT FROM %s"
    if field == "app_id":  # everything here is the key's tenant already
        return {"any": "TRUE", "eq": "TRUE" if value == tenant.slug else "FALSE",
                "ne": "FALSE" if value == tenant.slug else "TRUE",
                "in": "TRUE" if tenant.slug in (value or []) else "FALSE"}[op]
    if field in {"created_at", "updated_at"}:
        params.append(value)
        return f"(payload->>'{field}')::timestamptz {_COMPARE[op]} %s"
    if field == "keywords":
        params.append(_like(value))
        return f"payload->>'data' {'ILIKE' if op == 'icontains' else 'LIKE'} %s ESCAPE '\\'"
    if field == "memory_ids":
        params.append(list(value))
        return "id = ANY(%s::uuid[])"
    if field == "categories":
        params.append(list(value))
        return "(jsonb_typeof(payload->'categories') = 'array' AND payload->'categories' ?| %s)"
    if field.startswith("metadata."):
        key = field.removeprefix("metadata.")
        if op == "contains":
            params += [key, _like(str(value))]
            return "payload->>%s LIKE %s ESCAPE '\\'"
        params += [key, json.dumps(value)]
        return "payload->%s = %s::jsonb" if op == "eq" else "payload->%s IS DISTINCT FROM %s::jsonb"
    raise InvalidInput("filters", f"unsupported filter {field} {op}")


def condition_sql(tenant: Tenant, cond: Any, params: list[Any]) -> str:
    """Bound SQL for a condition tree (every value is a parameter; no key or operator comes from
    input except through the parser's whitelist)."""
    if isinstance(cond, Pred):
        return _pred_sql(tenant, cond, params)
    parts = [condition_sql(tenant, item, params) for item in cond.items]
    if cond.kind == "not":
        # A missing key makes a comparison NULL, and NOT NULL is NULL: "not agent chef" must keep
        # the memories that have no agent at all.
        return f"NOT COALESCE(({parts[0]}), FALSE)"
    return "(" + f" {cond.kind.upper()} ".join(parts) + ")"


def _value_sql(key: str, value: str | None, params: list[Any]) -> str | None:
    if value is None:
        return None
    if value == ANY:
        return f"payload->>'{key}' IS NOT NULL"
    params.append(clean_id(value, field=key))
    return f"payload->>'{key}' = %s"


def _where(tenant: Tenant, clauses: list[Clause], condition: Any = None, *,
           reading: bool = True) -> tuple[str, list[Any]]:
    """``reading``: the answer goes back to the app, so people who stopped it reading are left out
    (``access.key_read_member_condition``); False only to find an owner or what to erase."""
    from memportal.access import key_read_member_condition

    if not clauses:
        raise InvalidInput("filters", "needs at least one user_id, agent_id or run_id")
    if len(clauses) > MAX_CLAUSES:
        raise InvalidInput("filters", f"at most {MAX_CLAUSES} alternatives")
    members = Membership._meta.db_table
    params: list[Any] = [tenant.slug, tenant.pk]
    base = (
        "payload->>'app_id' = %s AND payload->>'user_id' IN "
        f"(SELECT subject_id FROM {members} WHERE tenant_id = %s AND external_id IS NOT NULL "
        "AND ended_at IS NULL" + (f" AND {key_read_member_condition()})" if reading else ")")
    )
    groups = []
    for clause in clauses:
        parts = []
        if clause.subject_id != ANY:
            parts.append("payload->>'user_id' = %s")
            params.append(clause.subject_id)
        for key, value in (("agent_id", clause.agent_id), ("run_id", clause.run_id)):
            sql = _value_sql(key, value, params)
            if sql:
                parts.append(sql)
        if clause.subject_id == ANY and clause.agent_id is None and clause.run_id is None:
            parts.append("TRUE")
        groups.append("(" + " AND ".join(parts) + ")")
    where = f"{base} AND ({' OR '.join(groups)})"
    if condition is not None:
        where += " AND " + condition_sql(tenant, condition, params)
    return where, params


def memory_list_where(*, tenant: Tenant, clauses: list[Clause], page: int = 1, page_size: int = 100,
                      condition: Any = None) -> MemoryPage:
    """Newest first, stable, with the total: the platform's paged get-all."""
    page, page_size = clean_page(page, page_size)
    where, params = _where(tenant, clauses, condition)
    return _rows.page_of(where=where, params=params, page=page, page_size=page_size)


def memory_search_where(
    *, tenant: Tenant, clauses: list[Clause], query: str, limit: int = 10, threshold: float | None = None,
    condition: Any = None,
) -> list[MemoryRecord]:
    """Exact cosine ranking inside the clauses, best first."""
    query = clean_query(query)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput("top_k", "must be a whole number between 1 and 1000")
    where, params = _where(tenant, clauses, condition)
    records = _rows.ranked(where=where, params=params, query=query, limit=limit)
    if threshold is not None:
        records = [r for r in records if r.score is not None and r.score >= threshold]
    return records


def memory_iter_where(*, tenant: Tenant, clauses: list[Clause], batch_size: int = 500,
                      condition: Any = None) -> Iterator[MemoryRecord]:
    """Every matching memory, oldest first, in keyset batches (for exports)."""
    where, params = _where(tenant, clauses, condition)
    return _rows.keyset_iter(where=where, params=params, batch_size=batch_size)


def memory_owner(*, tenant: Tenant, memory_id: Any) -> Membership:
    """The membership (known to the app by an external id) owning a memory of this tenant.

    MemoryNotFound for a malformed id, a missing one, another tenant's and a browser-only
    person's alike.
    """
    memory_uuid = _uuid_or_404(memory_id)
    # Every owner, readable or not: access.access_memory_for_key applies the owner's controls (423).
    where, params = _where(tenant, [Clause(subject_id=ANY)], reading=False)
    rows = _fetch(f"SELECT payload->>'user_id' FROM {TABLE} WHERE id = %s AND {where}", [memory_uuid, *params])
    if not rows:
        raise MemoryNotFound()
    member = Membership.objects.select_related("tenant").filter(
        tenant=tenant, subject_id=rows[0][0], external_id__isnull=False, ended_at__isnull=True
    ).first()
    if member is None:
        raise MemoryNotFound()
    return member


def external_ids_for_subjects(*, tenant: Tenant, subject_ids: list[str]) -> dict[str, str]:
    """subject id -> the app's own user_id, for answering in the app's terms."""
    rows = Membership.objects.filter(tenant=tenant, subject_id__in=set(subject_ids), external_id__isnull=False)
    return dict(rows.values_list("subject_id", "external_id"))


def members_in_scope(*, tenant: Tenant, clauses: list[Clause], condition: Any = None) -> list[Membership]:
    """Memberships that have at least one memory matching the clauses (tenant-wide deletes)."""
    where, params = _where(tenant, clauses, condition, reading=False)
    subjects = [r[0] for r in _fetch(f"SELECT DISTINCT payload->>'user_id' FROM {TABLE} WHERE {where}", params)]
    return list(
        Membership.objects.select_related("tenant").filter(
            tenant=tenant, subject_id__in=subjects, external_id__isnull=False, ended_at__isnull=True
        )
    )
