"""``python -m bench.search_quality``: search quality on the labelled set, before and after.

Loads tests/memory/search_set/set.json (36 memories of three people in two tenants, 40 queries
with graded relevance) into its own database (``memportal_bench_quality``), runs every query
through the search the site runs (``memportal.memory._rows.search_candidates`` + ``ranking.fuse``),
and prints, for each variant:

- nDCG@10 of what is shown (gain 2^grade - 1; queries with at least one relevant memory);
- precision and recall of what is shown (grade >= 1 counts as relevant);
- the share of queries with no relevant memory that show nothing (the issue's "seats" case);
- the share of queries whose first result answers them (grade 2).

``--tune`` also searches the floor's two cosine cut-offs on a grid and prints the best ones
(the committed ``ranking.FLOOR`` came from it). Writes bench/results/search-quality.json.
tests/memory/test_search_quality.py runs ``evaluate`` on the test database and holds the
"after" numbers to a minimum.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SET_PATH = Path(__file__).resolve().parent.parent / "tests" / "memory" / "search_set" / "set.json"
RESULTS = Path(__file__).resolve().parent / "results"
K = 10


def load_set(path: Path = SET_PATH) -> dict[str, Any]:
    return json.loads(path.read_text())


@dataclass(frozen=True)
class Variant:
    name: str
    method: str  # "vector", "hybrid" or "trigram"
    floor: Any = True  # True (the tuned floor), False (none) or a ranking.Floor
    threshold: float | None = None


def variants() -> list[Variant]:
    return [
        Variant("before: vector only, top 10, no floor", "vector", floor=False),
        Variant("before, person page: vector, cosine >= 0.1", "vector", threshold=0.1),
        Variant("hybrid, no floor", "hybrid", floor=False),
        Variant("trigram instead of full text, + floor (not used)", "trigram", floor=True),
        Variant("after: hybrid + floor", "hybrid", floor=True),
    ]


def seed(data: dict[str, Any]) -> dict[str, tuple[Any, dict[str, str]]]:
    """Create each person (a membership known by an external id) and store their memories.

    Returns person -> (membership, memory id -> set key)."""
    from memportal.memory.models import Membership, Tenant
    from memportal.memory.services import memory_add

    out: dict[str, tuple[Any, dict[str, str]]] = {}
    for name, person in data["people"].items():
        tenant = Tenant.objects.get_or_create(slug=person["tenant"], defaults={"name": person["tenant"]})[0]
        member = Membership.objects.create(tenant=tenant, external_id=f"search-set-{name}")
        keys = list(person["memories"])
        stored = memory_add(member=member, messages=[{"role": "user", "content": person["memories"][k]} for k in keys])
        out[name] = (member, {r.id: k for r, k in zip(stored, keys, strict=True)})
    return out


def candidates_for(data: dict[str, Any], seeded: dict[str, tuple[Any, dict[str, str]]], method: str) -> list[list]:
    """Each query's ranking candidates (one SQL statement per query), for ``ranking.fuse``.

    ``method="trigram"``: the keyword lists found by pg_trgm's ``word_similarity`` (>= 0.6 per
    non-stop word) instead of full text: measured here only, to choose between the two."""
    from memportal.memory import _rows
    from memportal.memory.selectors import _scope_sql
    from memportal.memory.validation import clean_query

    out = []
    for q in data["queries"]:
        member = seeded[q["person"]][0]
        where, params = _scope_sql(member)
        query = clean_query(q["query"])
        if method == "trigram":
            out.append(_trigram_candidates(where=where, params=params, query=query))
        else:
            out.append(_rows.search_candidates(where=where, params=params, query=query, limit=K, method=method))
    return out


def _trigram_candidates(*, where: str, params: list[Any], query: str) -> list:
    from memportal.memory import _rows, ranking

    vector = _rows.query_vector(query)
    words = [w for w in ranking.query_words(query)
             if _rows.fetch("SELECT plainto_tsquery('english', %s)::text <> ''", [w])[0][0]]
    rows = [("vector", str(i), 1 - d) for i, d in _rows.fetch(
        f"SELECT id, vector <=> %s::vector FROM memportal_memories WHERE {where} ORDER BY 2, id LIMIT %s",
        [vector, *params, K])]
    if words:
        similar = ["word_similarity(%s, payload->>'data') >= 0.6"] * len(words)
        for name, joiner in (("all", " AND "), ("any", " OR ")):
            rows += [(name, str(i), 1 - d) for i, d in _rows.fetch(
                f"SELECT id, vector <=> %s::vector FROM memportal_memories WHERE {where} "
                f"AND ({joiner.join(similar)}) ORDER BY 2, id LIMIT %s", [vector, *params, *words, K])]
    return ranking.candidates(rows, load=_rows._load_records)


def _dcg(gains: list[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def metrics(data: dict[str, Any], shown: list[list[str]]) -> dict[str, Any]:
    """Quality of what each query shows (lists of set keys, best first)."""
    ndcgs, first_right = [], []
    shown_n = relevant_shown = relevant_total = 0
    empty_right = empty_total = 0
    for q, keys in zip(data["queries"], shown, strict=True):
        labels: dict[str, int] = q["relevant"]
        shown_n += len(keys)
        relevant_shown += sum(1 for k in keys if labels.get(k, 0) >= 1)
        relevant_total += len(labels)
        if not labels:
            empty_total += 1
            empty_right += not keys
            continue
        ideal = _dcg(sorted((2 ** g - 1 for g in labels.values()), reverse=True)[:K])
        ndcgs.append(_dcg([2 ** labels.get(k, 0) - 1 for k in keys[:K]]) / ideal)
        first_right.append(bool(keys) and labels.get(keys[0], 0) == 2)
    precision = relevant_shown / shown_n if shown_n else 1.0
    recall = relevant_shown / relevant_total if relevant_total else 1.0
    return {
        "ndcg_at_10": round(sum(ndcgs) / len(ndcgs), 4),
        "precision_shown": round(precision, 4),
        "recall_shown": round(recall, 4),
        "f1_shown": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "nothing_shown_when_nothing_relevant": round(empty_right / empty_total, 4) if empty_total else None,
        "first_result_answers": round(sum(first_right) / len(first_right), 4),
        "shown_per_query": round(shown_n / len(shown), 2),
    }


def shown_keys(data: dict[str, Any], seeded: dict[str, Any], cands: list[list], variant: Variant) -> list[list[str]]:
    from memportal.memory import ranking

    out = []
    for q, c in zip(data["queries"], cands, strict=True):
        ids = seeded[q["person"]][1]
        records = ranking.fuse(c, limit=K, floor=variant.floor, threshold=variant.threshold, method=variant.method)
        out.append([ids[r.id] for r in records])
    return out


def evaluate(data: dict[str, Any], seeded: dict[str, Any], *, trigram: bool = False) -> dict[str, Any]:
    """Every variant's metrics, and what the "after" variant shows for each query.

    ``trigram``: also the pg_trgm variant (needs the extension; the command creates it)."""
    chosen = [v for v in variants() if trigram or v.method != "trigram"]
    methods = {v.method for v in chosen}
    cands = {m: candidates_for(data, seeded, m) for m in sorted(methods)}
    out: dict[str, Any] = {"variants": {}, "queries": []}
    for v in chosen:
        fused = Variant(v.name, "hybrid" if v.method == "trigram" else v.method, v.floor, v.threshold)
        out["variants"][v.name] = metrics(data, shown_keys(data, seeded, cands[v.method], fused))
    after = shown_keys(data, seeded, cands["hybrid"], variants()[-1])
    for q, keys in zip(data["queries"], after, strict=True):
        out["queries"].append({"person": q["person"], "query": q["query"], "shown": keys,
                               "relevant": q["relevant"]})
    return out


def tune(data: dict[str, Any], seeded: dict[str, Any]) -> list[dict[str, Any]]:
    """Grid over the floor's cut-offs: the best by F1 of what is shown, then nDCG@10 (then the
    highest cut-offs: of equals, the one that shows least)."""
    from memportal.memory import ranking

    cands = candidates_for(data, seeded, "hybrid")
    grid = [round(0.05 * i, 3) for i in range(1, 13)]
    rows = []
    for cosine in grid:
        for keyword in [g for g in grid if g <= cosine]:
            for beside in [g for g in grid if g >= cosine]:
                floor = ranking.Floor(cosine=cosine, keyword_cosine=keyword, beside_keyword=beside,
                                      strong=ranking.FLOOR.strong)
                m = metrics(data, shown_keys(data, seeded, cands, Variant("t", "hybrid", floor=floor)))
                rows.append({"cosine": cosine, "keyword_cosine": keyword, "beside_keyword": beside, **m})
    rows.sort(key=lambda r: (-r["f1_shown"], -r["ndcg_at_10"], -r["cosine"], -r["beside_keyword"],
                             -r["keyword_cosine"]))
    return rows


def _table(variant_metrics: dict[str, dict[str, Any]]) -> str:
    cols = ["ndcg_at_10", "precision_shown", "recall_shown", "nothing_shown_when_nothing_relevant",
            "first_result_answers", "shown_per_query"]
    lines = ["| variant | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, m in variant_metrics.items():
        lines.append(f"| {name} | " + " | ".join(str(m[c]) for c in cols) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_quality", description=__doc__)
    parser.add_argument("--tune", action="store_true", help="also search the floor's cut-offs on a grid")
    parser.add_argument("--out", default="search-quality", help="name under bench/results")
    args = parser.parse_args()
    os.environ.setdefault("MEMPORTAL_BENCH_DATABASE", "memportal_bench_quality")
    from .db import django_setup

    django_setup()
    from django.db import connection

    from memportal.memory import ranking
    from memportal.memory.models import ErasureReceipt, Membership

    data = load_set()
    with connection.cursor() as cur:  # its own database: start from nothing
        cur.execute("TRUNCATE memportal_memories, memory_memoryevent, memory_memorymessage")
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # the trigram variant, here only
    slugs = {p["tenant"] for p in data["people"].values()}
    ErasureReceipt.objects.filter(tenant__slug__in=slugs).delete()
    Membership.objects.filter(tenant__slug__in=slugs).delete()
    seeded = seed(data)
    result = evaluate(data, seeded, trigram=True)
    result["floor"] = asdict(ranking.FLOOR)
    print(_table(result["variants"]))
    if args.tune:
        best = tune(data, seeded)
        result["tuning_top"] = best[:10]
        print("\nfloor grid, best first (F1 of what is shown, then nDCG@10):")
        for row in best[:10]:
            print(row)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
