"""Reads. Every query is confined to one membership's ``app_id`` + ``user_id`` in SQL.

Reads use SQL on mem0's own table rather than ``Memory.get_all``/``search``: mem0 has no paging,
no order and no count (``get_all`` stops at ``top_k``), and its search adds BM25 and a 0.1
score threshold. Here search is exact cosine ranking within the person's rows, which the btree
indexes from migration 0002 make cost proportional to that person's memories, not the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import _rows
from .errors import InvalidInput, MemoryNotFound
from .models import Membership, MemoryEvent, MemoryFeedback
from .records import TABLE, HistoryEntry, MemoryPage, MemoryRecord, ScopeCount, _when
from .validation import clean_optional_id, clean_page, clean_query


def _scope_sql(member: Membership, *, agent_id: str | None = None, run_id: str | None = None) -> tuple[str, list]:
    where = ["payload->>'app_id' = %s", "payload->>'user_id' = %s"]
    params: list[Any] = [member.tenant.slug, member.subject_id]
    if agent_id is not None:
        where.append("payload->>'agent_id' = %s")
        params.append(clean_optional_id(agent_id, field="agent_id"))
    if run_id is not None:
        where.append("payload->>'run_id' = %s")
        params.append(clean_optional_id(run_id, field="run_id"))
    return " AND ".join(where), params


_fetch = _rows.fetch
_payload = _rows.payload_dict


def _uuid_or_404(memory_id: Any) -> str:
    import uuid

    try:
        return str(uuid.UUID(str(memory_id)))
    except (ValueError, TypeError, AttributeError) as exc:
        raise MemoryNotFound() from exc


vector_literal = _rows.vector_literal  # imported from here by bulk loads and the benchmarks


def memory_list(
    *,
    member: Membership,
    agent_id: str | None = None,
    run_id: str | None = None,
    page: int = 1,
    page_size: int = 50,
    total: int | None = None,
) -> MemoryPage:
    """Newest first, stable (ties broken by id), with the total for this filter.

    ``total``: the caller already knows the count for this filter (from ``memory_scope_summary``),
    so the count query is skipped.
    """
    page, page_size = clean_page(page, page_size)
    where, params = _scope_sql(member, agent_id=agent_id, run_id=run_id)
    return _rows.page_of(where=where, params=params, page=page, page_size=page_size, total=total)


def memory_count(*, member: Membership) -> int:
    where, params = _scope_sql(member)
    return _fetch(f"SELECT count(*) FROM {TABLE} WHERE {where}", params)[0][0]


def memory_iter(*, member: Membership, batch_size: int = 500) -> Iterator[MemoryRecord]:
    """Every memory of the person, oldest first, fetched in keyset batches (for streaming exports)."""
    where, params = _scope_sql(member)
    return _rows.keyset_iter(where=where, params=params, batch_size=batch_size)


def memory_batches(*, member: Membership, batch_size: int = 500) -> Iterator[list[MemoryRecord]]:
    """``memory_iter`` a batch at a time, for callers that fetch something per batch (history)."""
    where, params = _scope_sql(member)
    for rows in _rows.keyset_batches(where=where, params=params, batch_size=batch_size):
        yield _rows.records(rows)


def _memory_row(member: Membership, memory_id: Any, lock: str = "") -> MemoryRecord:
    memory_uuid = _uuid_or_404(memory_id)
    where, params = _scope_sql(member)
    rows = _fetch(f"SELECT id, payload FROM {TABLE} WHERE id = %s AND {where}{lock}", [memory_uuid, *params])
    if not rows:
        raise MemoryNotFound()
    return _rows.records(rows)[0]


def memory_get(*, member: Membership, memory_id: Any) -> MemoryRecord:
    """The person's memory, or MemoryNotFound: the same for someone else's id and a missing one."""
    return _memory_row(member, memory_id)


def memory_lock(*, member: Membership, memory_id: Any) -> MemoryRecord:
    """``memory_get`` that also locks the row (FOR UPDATE) until the caller's transaction ends.

    Every write that touches one memory (correct, delete) calls this first: under the lock the
    scope is checked again, so a write can never land on a memory an erasure already took.
    """
    return _memory_row(member, memory_id, " FOR UPDATE")


def memory_find_texts(*, member: Membership, texts: list[str]) -> dict[str, MemoryRecord]:
    """The person's memories whose text is exactly one of ``texts`` (text -> the oldest such memory)."""
    if not texts:
        return {}
    where, params = _scope_sql(member)
    rows = _fetch(
        f"SELECT id, payload FROM {TABLE} WHERE {where} AND payload->>'data' = ANY(%s) "
        "ORDER BY payload->>'created_at' DESC",
        [*params, list(texts)],
    )
    return {r.text: r for r in _rows.records(rows)}


def memory_get_many(*, member: Membership, memory_ids: list[str]) -> list[MemoryRecord]:
    if not memory_ids:
        return []
    where, params = _scope_sql(member)
    rows = _fetch(
        f"SELECT id, payload FROM {TABLE} WHERE id = ANY(%s::uuid[]) AND {where} "
        "ORDER BY payload->>'created_at', id",
        [[_uuid_or_404(m) for m in memory_ids], *params],
    )
    return _rows.records(rows)


def memory_search(
    *, member: Membership, query: str, agent_id: str | None = None, run_id: str | None = None, limit: int = 10
) -> list[MemoryRecord]:
    """Exact semantic search over the person's own memories, best first (score = cosine)."""
    query = clean_query(query)
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput("limit", "must be between 1 and 1000")
    where, params = _scope_sql(member, agent_id=agent_id, run_id=run_id)
    return _rows.ranked(where=where, params=params, query=query, limit=limit)


def memory_history(*, member: Membership, memory_id: Any) -> list[HistoryEntry]:
    """Changes to one of the person's memories, oldest first (ownership checked first)."""
    record = memory_get(member=member, memory_id=memory_id)
    return [
        HistoryEntry(e.event, e.old_memory, e.new_memory, _when(e.updated_at or e.created_at), e.actor_id, e.role,
                     e.source or "")
        for e in MemoryEvent.objects.filter(memory_id=record.id)
    ]



def memory_feedback(*, member: Membership, memory_id: Any) -> list[MemoryFeedback]:
    """Apps' feedback on one of the person's memories, newest first (ownership checked first)."""
    record = memory_get(member=member, memory_id=memory_id)
    return list(MemoryFeedback.objects.filter(tenant_id=member.tenant_id, subject_id=member.subject_id,
                                              memory_id=record.id))


def memory_history_many(*, member: Membership, memory_ids: list[str]) -> dict[str, list[HistoryEntry]]:
    """``memory_history`` for many memories in two queries: id -> changes, oldest first.

    Ids that are not the person's (or do not exist) are simply absent from the answer.
    """
    if not memory_ids:
        return {}
    where, params = _scope_sql(member)
    owned = [
        str(r[0]) for r in _fetch(
            f"SELECT id FROM {TABLE} WHERE id = ANY(%s::uuid[]) AND {where}",
            [[_uuid_or_404(m) for m in memory_ids], *params],
        )
    ]
    history: dict[str, list[HistoryEntry]] = {m: [] for m in owned}
    for e in MemoryEvent.objects.filter(memory_id__in=owned):
        history[str(e.memory_id)].append(
            HistoryEntry(e.event, e.old_memory, e.new_memory, _when(e.updated_at or e.created_at), e.actor_id, e.role,
                     e.source or "")
        )
    return history


def memory_feedback_many(*, member: Membership, memory_ids: list[str]) -> dict[str, list[MemoryFeedback]]:
    """Apps' feedback on many of the person's memories in one query: id -> feedback, newest first.
    Only rows in the person's own scope (tenant and subject) are read."""
    found: dict[str, list[MemoryFeedback]] = {}
    if not memory_ids:
        return found
    for f in MemoryFeedback.objects.filter(tenant_id=member.tenant_id, subject_id=member.subject_id,
                                           memory_id__in=[_uuid_or_404(m) for m in memory_ids]):
        found.setdefault(str(f.memory_id), []).append(f)
    return found


@dataclass(frozen=True)
class ScopeSummary:
    """All of a person's counts at once: in total, per agent, per session, per (agent, session)."""

    total: int
    by_agent: dict[str, int]
    by_run: dict[str, int]
    by_pair: dict[tuple[str, str], int]

    @staticmethod
    def _ranked(counts: dict[str, int]) -> list[ScopeCount]:
        # The order memory_scope_counts gives: most memories first, then by name.
        return [ScopeCount(v, n) for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def agents(self) -> list[ScopeCount]:
        return self._ranked(self.by_agent)

    def sessions(self, *, agent_id: str | None = None) -> list[ScopeCount]:
        if agent_id is None:
            return self._ranked(self.by_run)
        return self._ranked({r: n for (a, r), n in self.by_pair.items() if a == agent_id})

    def count(self, *, agent_id: str | None = None, run_id: str | None = None) -> int:
        if agent_id is None and run_id is None:
            return self.total
        if run_id is None:
            return self.by_agent.get(agent_id or "", 0)
        if agent_id is None:
            return self.by_run.get(run_id, 0)
        return self.by_pair.get((agent_id, run_id), 0)


def memory_scope_summary(*, member: Membership) -> ScopeSummary:
    """One scan of the person's rows instead of one per count (the "your data" page needs all of them)."""
    where, params = _scope_sql(member)
    rows = _fetch(
        "SELECT payload->>'agent_id', payload->>'run_id', "
        "GROUPING(payload->>'agent_id', payload->>'run_id'), count(*) "
        f"FROM {TABLE} WHERE {where} "
        "GROUP BY GROUPING SETS ((payload->>'agent_id', payload->>'run_id'), "
        "(payload->>'agent_id'), (payload->>'run_id'), ())",
        params,
    )
    total, by_agent, by_run, by_pair = 0, {}, {}, {}
    # GROUPING() bits: 2 = agent not grouped, 1 = session not grouped. Empty/absent ids are not
    # offered as filters (as in memory_scope_counts), but still count in the total.
    for agent, run, grouping, n in rows:
        if grouping == 3:
            total = n
        elif grouping == 1 and agent:
            by_agent[agent] = n
        elif grouping == 2 and run:
            by_run[run] = n
        elif grouping == 0 and agent and run:
            by_pair[(agent, run)] = n
    return ScopeSummary(total, by_agent, by_run, by_pair)


def memory_scope_counts(*, member: Membership, key: str, agent_id: str | None = None) -> list[ScopeCount]:
    """The person's agents (key='agent_id') or sessions (key='run_id'), with counts, for filters."""
    if key not in {"agent_id", "run_id"}:
        raise InvalidInput("key", "must be agent_id or run_id")
    where, params = _scope_sql(member, agent_id=agent_id)
    rows = _fetch(
        f"SELECT payload->>'{key}' AS v, count(*) FROM {TABLE} WHERE {where} AND payload ? '{key}' "
        "GROUP BY v ORDER BY count(*) DESC, v",
        params,
    )
    return [ScopeCount(r[0], r[1]) for r in rows if r[0]]
