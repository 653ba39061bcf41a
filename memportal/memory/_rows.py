"""Shared SQL plumbing for the read modules (selectors, tenant_selectors, api_selectors).

Each of them builds its own WHERE clause (one person, one tenant, or an API's clauses); what
they do with it is the same: a paged list, an exact cosine ranking, or a keyset walk over every
matching row. Those live here once so the three scopes cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection

from . import ranking
from .records import _CORE_KEYS, TABLE, MemoryPage, MemoryRecord

#: Keyset order "oldest first": rows without created_at sort first (coalesce), ties by id.
CREATED_ORDER = ("coalesce(payload->>'created_at', '')", "id")
#: Keyset order "person, then oldest first": exactly the (app_id, user_id, created_at) btree
#: index's columns, so a tenant-wide walk reads the index in order instead of sorting the tenant
#: for every batch. Rows missing user_id or created_at (no btree order for NULLs in a row
#: comparison) are walked afterwards by ``keyset_batches`` in a second, id-ordered pass.
PERSON_ORDER = ("payload->>'user_id'", "payload->>'created_at'", "id")

#: The custom metadata of a payload, computed by PostgreSQL (mem0's own keys removed).
METADATA_SQL = "payload - %s::text[]"
CORE_KEYS = sorted(_CORE_KEYS)


def fetch(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def payload_dict(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else value


def records(rows: list[tuple]) -> list[MemoryRecord]:
    """(id, payload[, score]) rows -> records."""
    return [
        MemoryRecord.from_row(r[0], payload_dict(r[1]), score=float(r[2]) if len(r) > 2 else None) for r in rows
    ]


def page_of(
    *, where: str, params: list[Any], page: int, page_size: int, total: int | None = None
) -> MemoryPage:
    """Newest first, stable (ties broken by id), with the total for this WHERE (already cleaned page).

    ``total``: the caller already knows the count, so the count query is skipped.
    """
    if total is None:
        total = fetch(f"SELECT count(*) FROM {TABLE} WHERE {where}", params)[0][0]
    rows = fetch(
        f"SELECT id, payload FROM {TABLE} WHERE {where} "
        "ORDER BY payload->>'created_at' DESC, id DESC LIMIT %s OFFSET %s",
        [*params, page_size, (page - 1) * page_size],
    )
    return MemoryPage(records(rows), total, page, page_size)


def vector_literal(vector: Any) -> str:
    """pgvector's text form; sent as a literal it costs far less than a Python list parameter."""
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def query_vector(query: str) -> str:
    from .mem0_backend import get_memory

    return vector_literal(get_memory().embedding_model.embed(query, "search"))


def searched(
    *, where: str, params: list[Any], query: str, limit: int, floor: bool = True,
    threshold: float | None = None,
) -> list[MemoryRecord]:
    """The search every surface runs: hybrid ranking of the (already cleaned) query inside the
    WHERE, best first, cut by the relevance floor (or by ``threshold``, a minimum cosine)."""
    cands = search_candidates(where=where, params=params, query=query, limit=limit)
    return ranking.fuse(cands, limit=limit, floor=floor, threshold=threshold)


def search_candidates(
    *, where: str, params: list[Any], query: str, limit: int, method: str = "hybrid", vector: str | None = None,
) -> list[ranking.Candidate]:
    """The candidate lists of ``memory.ranking`` for the query inside the WHERE, in one statement.

    The vector and "all words" lists carry their rows' payloads (at most 2 x ``limit``, as
    text); only those ``ranking.fuse`` shows are parsed into records (``Candidate.load``).
    ``method="vector"``: the exact cosine list alone (the search before the hybrid; the quality
    and latency benchmarks compare the two). ``vector``: the query's vector literal, if known.
    """
    vector = vector or query_vector(query)
    words = ranking.query_words(query) if method == "hybrid" else []
    # The vector list is exactly the vector-only search: exact, inside the scope, the person's btree.
    lists = [("vector", f"SELECT id, vector <=> %s::vector AS d, payload FROM {TABLE} WHERE {where} "
                        "ORDER BY vector <=> %s::vector, id LIMIT %s", [vector, *params, vector, limit])]
    if words:
        tsv, config = ranking.TSV_SQL, f"'{ranking.TS_CONFIG}'::regconfig"
        lists.append(("all", f"SELECT id, vector <=> %s::vector AS d, payload FROM {TABLE} WHERE {where} "
                             f"AND {tsv} @@ plainto_tsquery({config}, %s) ORDER BY d, id LIMIT %s",
                      [vector, *params, " ".join(words), limit]))
    if len(words) > 1:
        # "Any word" is asked of the two lists' candidates only (at most 2 x limit rows, each
        # one to_tsvector): a common word ("like") can be in a third of a heavy person's
        # 3,000 memories, and ranking all of those by distance cost more than the search.
        any_word = " || ".join([f"plainto_tsquery({config}, %s)"] * len(words))
        lists.append(("any", "SELECT c.id, c.d, NULL::jsonb AS payload FROM "
                             "(SELECT id, d, payload FROM l_vector UNION ALL SELECT id, d, payload FROM l_all) c "
                             f"WHERE {tsv.replace('payload', 'c.payload')} @@ ({any_word})", list(words)))
    if len(lists) == 1:
        rows = [("vector", *r) for r in fetch(lists[0][1], lists[0][2])]
    else:
        # CTE names cannot be "all"/"any" (reserved words), hence the l_ prefix.
        ctes = ", ".join(f"l_{name} AS MATERIALIZED ({sql})" for name, sql, _ in lists)
        union = " UNION ALL ".join(f"SELECT '{name}', id, d, payload FROM l_{name}" for name, _, _ in lists)
        rows = fetch(f"WITH {ctes} {union}", [p for _, _, list_params in lists for p in list_params])
    payloads = {str(memory_id): payload for _, memory_id, _, payload in rows if payload is not None}

    def load(ids: list[str]) -> dict[str, MemoryRecord]:
        return {i: MemoryRecord.from_row(i, payload_dict(payloads[i])) for i in ids if i in payloads}

    return ranking.candidates(((name, str(memory_id), 1 - float(d)) for name, memory_id, d, _ in rows), load=load)


def _load_records(ids: list[str]) -> dict[str, MemoryRecord]:
    """Records for memory ids a search found inside its scope (the trigram benchmark variant)."""
    rows = fetch(f"SELECT id, payload FROM {TABLE} WHERE id = ANY(%s::uuid[])", [ids]) if ids else []
    return {str(r[0]): MemoryRecord.from_row(r[0], payload_dict(r[1])) for r in rows}


def ranked(*, where: str, params: list[Any], query: str, limit: int) -> list[MemoryRecord]:
    """Exact cosine ranking of the (already cleaned) query inside the WHERE, best first (score = cosine)."""
    vector = query_vector(query)
    rows = fetch(
        f"SELECT id, payload, 1 - (vector <=> %s::vector) AS score FROM {TABLE} WHERE {where} "
        "ORDER BY vector <=> %s::vector, id LIMIT %s",
        [vector, *params, vector, limit],
    )
    return records(rows)


def _walk(
    *, columns: str, column_params: list[Any], where: str, params: list[Any], order: Sequence[str],
    batch_size: int,
) -> Iterator[list[tuple]]:
    keys = ", ".join(order)
    width = len(order)
    last: list[Any] | None = None
    while True:
        after, after_params = "", []
        if last is not None:
            after = f" AND ({keys}) > ({', '.join(['%s'] * width)})"
            after_params = last
        rows = fetch(
            f"SELECT {keys}, {columns} FROM {TABLE} WHERE {where}{after} ORDER BY {keys} LIMIT %s",
            [*column_params, *params, *after_params, batch_size],
        )
        if not rows:
            return
        last = list(rows[-1][:width])
        yield [r[width:] for r in rows]
        if len(rows) < batch_size:
            return


def keyset_batches(
    *, where: str, params: list[Any], order: Sequence[str] = CREATED_ORDER, batch_size: int = 500,
    columns: str = "id, payload", column_params: Sequence[Any] = (),
) -> Iterator[list[tuple]]:
    """Every row matching ``where``, in ``order``, as lists of ``columns`` tuples of ``batch_size``.

    Keyset paging (no OFFSET, no open cursor between batches): each batch is one short query
    that resumes after the previous batch's last key, so a streamed response can take as long
    as it likes and memory use is one batch. ``order`` must end with the unique ``id``.
    """
    column_params = list(column_params)
    # A NULL key never compares greater than anything: such rows get a pass of their own.
    nullable = [k for k in order if k.startswith("payload->>")]
    present = "".join(f" AND {k} IS NOT NULL" for k in nullable)
    yield from _walk(
        columns=columns, column_params=column_params, where=where + present, params=params, order=order,
        batch_size=batch_size,
    )
    if nullable:
        missing = " OR ".join(f"{k} IS NULL" for k in nullable)
        yield from _walk(
            columns=columns, column_params=column_params, where=f"{where} AND ({missing})", params=params,
            order=("id",), batch_size=batch_size,
        )


def keyset_iter(
    *, where: str, params: list[Any], order: Sequence[str] = CREATED_ORDER, batch_size: int = 500
) -> Iterator[MemoryRecord]:
    """``keyset_batches`` as records, one at a time."""
    for rows in keyset_batches(where=where, params=params, order=order, batch_size=batch_size):
        yield from records(rows)
