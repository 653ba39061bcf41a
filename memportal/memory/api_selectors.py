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


def _value_sql(key: str, value: str | None, params: list[Any]) -> str | None:
    if value is None:
        return None
    if value == ANY:
        return f"payload->>'{key}' IS NOT NULL"
    params.append(clean_id(value, field=key))
    return f"payload->>'{key}' = %s"


def _where(tenant: Tenant, clauses: list[Clause]) -> tuple[str, list[Any]]:
    if not clauses:
        raise InvalidInput("filters", "needs at least one user_id, agent_id or run_id")
    if len(clauses) > MAX_CLAUSES:
        raise InvalidInput("filters", f"at most {MAX_CLAUSES} alternatives")
    members = Membership._meta.db_table
    params: list[Any] = [tenant.slug, tenant.pk]
    base = (
        "payload->>'app_id' = %s AND payload->>'user_id' IN "
        f"(SELECT subject_id FROM {members} WHERE tenant_id = %s AND external_id IS NOT NULL "
        "AND ended_at IS NULL)"
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
    return f"{base} AND ({' OR '.join(groups)})", params


def memory_list_where(*, tenant: Tenant, clauses: list[Clause], page: int = 1, page_size: int = 100) -> MemoryPage:
    """Newest first, stable, with the total: the platform's paged get-all."""
    page, page_size = clean_page(page, page_size)
    where, params = _where(tenant, clauses)
    return _rows.page_of(where=where, params=params, page=page, page_size=page_size)


def memory_search_where(
    *, tenant: Tenant, clauses: list[Clause], query: str, limit: int = 10, threshold: float | None = None
) -> list[MemoryRecord]:
    """Exact cosine ranking inside the clauses, best first."""
    query = clean_query(query)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput("top_k", "must be a whole number between 1 and 1000")
    where, params = _where(tenant, clauses)
    records = _rows.ranked(where=where, params=params, query=query, limit=limit)
    if threshold is not None:
        records = [r for r in records if r.score is not None and r.score >= threshold]
    return records


def memory_iter_where(*, tenant: Tenant, clauses: list[Clause], batch_size: int = 500) -> Iterator[MemoryRecord]:
    """Every matching memory, oldest first, in keyset batches (for exports)."""
    where, params = _where(tenant, clauses)
    return _rows.keyset_iter(where=where, params=params, batch_size=batch_size)


def memory_owner(*, tenant: Tenant, memory_id: Any) -> Membership:
    """The membership (known to the app by an external id) owning a memory of this tenant.

    MemoryNotFound for a malformed id, a missing one, another tenant's and a browser-only
    person's alike.
    """
    memory_uuid = _uuid_or_404(memory_id)
    where, params = _where(tenant, [Clause(subject_id=ANY)])
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


def members_in_scope(*, tenant: Tenant, clauses: list[Clause]) -> list[Membership]:
    """Memberships that have at least one memory matching the clauses (tenant-wide deletes)."""
    where, params = _where(tenant, clauses)
    subjects = [r[0] for r in _fetch(f"SELECT DISTINCT payload->>'user_id' FROM {TABLE} WHERE {where}", params)]
    return list(
        Membership.objects.select_related("tenant").filter(
            tenant=tenant, subject_id__in=subjects, external_id__isnull=False, ended_at__isnull=True
        )
    )
