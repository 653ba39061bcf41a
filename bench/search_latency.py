"""``python -m bench.search_latency``: the hybrid search against the vector-only search it
replaced, side by side on the store as it is (no reload), interleaved person by person.

For each sampled person (every heavy person of 1,000+ memories, then a uniform sample) and a
query from the workload's list (natural questions full of common words: the keyword lists'
worst case), both searches run back to back, in alternating order, each timed twice:

- whole call: embedding the query + SQL + building records (``before`` is today's
  ``_rows.ranked``, the exact cosine search as it was; ``after`` is ``selectors.memory_search``);
- store only: the same SQL with the query vector already computed.

Prints p50/p95/p99 of each and the after/before ratios, writes bench/results/<out>.json with
the EXPLAIN of the hybrid statement for the heaviest person. Run it on the 1M benchmark store:

    MEMPORTAL_BENCH_DATABASE=memportal_bench_wts python -m bench.search_latency --out search-hybrid-1m
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _pcts(values: list[float]) -> dict[str, float]:
    from .report import percentiles

    return percentiles(values)


def _explain(member: Any, query: str) -> str:
    from django.db import connection

    from memportal.memory import _rows
    from memportal.memory.selectors import _scope_sql

    where, params = _scope_sql(member)
    vector = _rows.query_vector(query)
    plans: list[str] = []
    original = _rows.fetch

    def capture(sql: str, p: Any) -> list[tuple]:
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, p)
            plans.append("\n".join(r[0] for r in cur.fetchall()).replace(vector, "[...]"))
        return original(sql, p)

    _rows.fetch = capture
    try:
        _rows.search_candidates(where=where, params=params, query=query, limit=10, vector=vector)
    finally:
        _rows.fetch = original
    return plans[0]


def run(*, people: int, seed: int) -> dict[str, Any]:
    from django.db import connection

    from memportal.memory import _rows, ranking
    from memportal.memory.models import Membership
    from memportal.memory.selectors import _scope_sql, memory_search

    from .workload import QUERIES

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM memportal_memories")
        total = cur.fetchone()[0]
        cur.execute("SELECT payload->>'user_id', count(*) FROM memportal_memories GROUP BY 1 HAVING count(*) >= 1000 "
                    "ORDER BY 2 DESC")
        heavy = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'memportal_memories' ORDER BY 1")
        indexes = [r[0] for r in cur.fetchall()]
    subjects = list(Membership.objects.filter(tenant__slug__startswith="bench_t", external_id__startswith="p")
                    .values_list("subject_id", flat=True))
    rng = random.Random(seed)
    chosen = heavy + rng.sample(subjects, min(max(people - len(heavy), 0), len(subjects)))
    members = {m.subject_id: m for m in Membership.objects.filter(subject_id__in=chosen).select_related("tenant")}
    chosen = [s for s in chosen if s in members]

    memory_search(member=members[chosen[0]], query="warm up")  # load the embedder
    timings: dict[str, list[float]] = {k: [] for k in ("before", "after", "before_sql", "after_sql")}
    shown_after: list[int] = []
    for n, subject in enumerate(chosen):
        member = members[subject]
        query = QUERIES[n % len(QUERIES)]
        where, params = _scope_sql(member)

        def before(member=member, query=query, where=where, params=params) -> None:
            _rows.ranked(where=where, params=params, query=query, limit=10)

        def after(member=member, query=query) -> None:
            shown_after.append(len(memory_search(member=member, query=query, limit=10)))

        vector = _rows.query_vector(query)

        def before_sql(where=where, params=params, vector=vector) -> None:
            _rows.fetch(
                "SELECT id, payload, 1 - (vector <=> %s::vector) AS score FROM memportal_memories "
                f"WHERE {where} ORDER BY vector <=> %s::vector, id LIMIT %s", [vector, *params, vector, 10],
            )

        def after_sql(where=where, params=params, vector=vector, query=query) -> None:
            ranking.fuse(_rows.search_candidates(where=where, params=params, query=query, limit=10, vector=vector),
                         limit=10)

        pairs = [("before", before), ("after", after), ("before_sql", before_sql), ("after_sql", after_sql)]
        if n % 2:  # alternate who goes first: neither side always gets the warmer cache
            pairs = [pairs[1], pairs[0], pairs[3], pairs[2]]
        for name, fn in pairs:
            t0 = time.perf_counter()
            fn()
            timings[name].append((time.perf_counter() - t0) * 1000)

    out: dict[str, Any] = {
        "rows_in_store": total,
        "people": len(chosen),
        "heavy_people": len(heavy),
        "indexes": indexes,
        **{f"{k}_ms": _pcts(v) for k, v in timings.items()},
        "shown_after_mean": round(statistics.fmean(shown_after), 2) if shown_after else None,
    }
    for kind in ("", "_sql"):
        b, a = out[f"before{kind}_ms"], out[f"after{kind}_ms"]
        out[f"ratio{kind}"] = {p: round(a[p] / b[p], 3) for p in ("p50", "p95", "p99") if b.get(p)}
    heaviest = members[heavy[0]] if heavy else members[chosen[0]]
    out["explain_heaviest"] = _explain(heaviest, QUERIES[1])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", default="search-hybrid")
    args = parser.parse_args()
    from .db import django_setup

    django_setup()
    import json

    from .report import machine

    res = run(people=args.people, seed=args.seed)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps({"machine": machine(), "search": res}, indent=2) + "\n")
    print(f"{res['rows_in_store']:,} memories, {res['people']} people ({res['heavy_people']} with 1,000+)")
    print("| search | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|")
    for key, label in (("before", "before: vector only (whole call)"), ("after", "after: hybrid + floor (whole call)"),
                       ("before_sql", "before: store only"), ("after_sql", "after: store only")):
        m = res[f"{key}_ms"]
        print(f"| {label} | {m['p50']} | {m['p95']} | {m['p99']} |")
    print(f"after / before, whole call: {res['ratio']}; store only: {res['ratio_sql']}")
    print(res["explain_heaviest"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
