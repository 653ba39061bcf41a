"""``python -m bench quick`` (10,000 memories, a few minutes) and ``python -m bench full --sizes ...``.

Runs against its own database (``memportal_bench`` on the embedded server, or
``MEMPORTAL_BENCH_DATABASE_URL``); never the site's database. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
CONFIGS = ("memportal", "mem0-pgvector", "mem0-qdrant")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("mode", choices=["quick", "full", "http", "search", "report"])
    parser.add_argument("inputs", nargs="*", help="report: result JSON files to merge into one table and plot")
    parser.add_argument("--sizes", default=None, help="comma-separated store sizes (full; default 10000,100000)")
    parser.add_argument(
        "--configs",
        default=None,
        help=f"comma-separated subset of {','.join(CONFIGS)} (default: all three)",
    )
    parser.add_argument("--queries", type=int, default=200, help="people queried per configuration and size")
    parser.add_argument("--baseline-queries", type=int, default=60, help="people queried on mem0's stores")
    parser.add_argument("--qdrant-max", type=int, default=50_000, help="largest size tried on embedded Qdrant")
    parser.add_argument("--pgvector-max", type=int, default=100_000, help="largest size tried on mem0 pgvector")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--http", action="store_true", help="also load /you/ under gunicorn + wrk at each size")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers for the HTTP runs")
    parser.add_argument("--out", default=None, help="output name under bench/results (default: the mode)")
    return parser.parse_args()


def main() -> int:
    args = _parse()
    if args.mode == "report":
        return _report(args)
    from .db import django_setup

    url = django_setup()
    from . import run
    from .report import machine, table, write_json
    from .workload import generate

    if args.mode == "http":  # against whatever the benchmark database holds now
        from .http import COLUMNS, run_http, write_http_plot

        res = run_http(database_url=url, workers=args.workers)
        write_json({"machine": machine(), "http": res}, RESULTS / f"{args.out or 'http'}.json")
        print(table(res.get("levels", []), COLUMNS))
        if res.get("levels"):
            write_http_plot(res, RESULTS / f"{args.out or 'http'}.png")
        return 0
    if args.mode == "search":  # latency split (cold/warm/embedding/SQL) on the store as it is
        res = run.search_existing(people=args.queries)
        write_json({"machine": machine(), "search": res}, RESULTS / f"{args.out or 'search'}.json")
        print(json.dumps(res, indent=2))
        return 0
    if args.mode == "quick":
        sizes = [int(s) for s in (args.sizes or "10000").split(",")]
        configs = (args.configs or ",".join(CONFIGS)).split(",")
    else:
        sizes = [int(s) for s in (args.sizes or "10000,100000").split(",")]
        configs = (args.configs or ",".join(CONFIGS)).split(",")
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        print(f"unknown configs: {sorted(unknown)}", file=sys.stderr)
        return 2

    result: dict[str, Any] = {
        "mode": args.mode,
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M"),
        "seed": args.seed,
        "configs": configs,
        "sizes": {},
    }
    enc = run.encoder()
    for size in sizes:
        t_size = time.perf_counter()
        run.log(f"size {size:,}: generating workload")
        wl = generate(size=size, seed=args.seed)
        vectors, emb_stats = run.embed_texts(wl.texts)
        query_vecs = enc.encode(wl.queries)
        subjects = run.subjects_for(wl, args.queries)
        sizes_of = [wl.people[p].n_memories for p in subjects]
        out: dict[str, Any] = {
            "people": len(wl.people),
            "embedding": emb_stats,
            "queried_people": len(subjects),
            "queried_max_memories": max(sizes_of),
            "queried_median_memories": sorted(sizes_of)[len(sizes_of) // 2],
        }
        run.log(f"  {len(wl.people):,} people, {emb_stats['distinct_texts']:,} distinct sentences embedded")

        run.reset_store(wl)
        members = run.create_members(wl)
        loaded = run.load_bulk(wl, vectors, members)
        ids = loaded.pop("ids")
        out["bulk_load"] = loaded
        run.log(f"  bulk load {loaded['per_s']:,.0f} memories/s ({loaded['seconds']} s)")
        out["store"] = run.store_size()
        out["ingest_service"] = run.ingest_service(wl, members)
        run.log(f"  service ingest (infer=False) {out['ingest_service']['per_s']:,.0f} memories/s")

        heavy = max(range(len(wl.people)), key=lambda i: wl.people[i].n_memories)
        small = subjects[-1]
        out["explain"] = {
            "heaviest": run.explain_memportal(members[heavy], query_vecs[0]),
            "typical": run.explain_memportal(members[small], query_vecs[0]),
        }
        for k, e in out["explain"].items():
            run.log(f"  EXPLAIN {k}: btree={e['uses_btree']} hnsw={e['uses_hnsw']}")

        searches: dict[str, Any] = {}
        if "memportal" in configs:
            run.log("  searching memportal")
            searches["memportal"] = run.search_memportal(wl, vectors, members, ids, subjects, query_vecs)
        bsubjects = subjects[: args.baseline_queries]
        for name in configs:
            if name == "memportal":
                continue
            limit = args.qdrant_max if name == "mem0-qdrant" else args.pgvector_max
            if size > limit:
                searches[name] = {"skipped": f"size above --{name.split('-')[1]}-max {limit:,}"}
                continue
            searches[name] = _baseline(name, url, wl, vectors, members, bsubjects, query_vecs)
        out["search"] = searches

        if args.http:
            from .http import run_http

            out["http"] = run_http(database_url=url, workers=args.workers)
        tenant_export = wl.tenants[2] if len(wl.tenants) > 2 else wl.tenants[-1]
        out["export"] = run.export_tenant(members, tenant_export)
        run.log(f"  export {out['export']['rows_per_s']:,.0f} rows/s, peak {out['export']['peak_python_alloc_mb']} MB")
        out["offboard"] = run.offboard_tenant(wl.tenants[-1])
        run.log(
            f"  offboard {out['offboard']['memories']:,} memories in {out['offboard']['seconds']} s, "
            f"{out['offboard']['remaining_after']} left"
        )
        out["seconds_total"] = round(time.perf_counter() - t_size, 1)
        result["sizes"][str(size)] = out

    name = args.out or args.mode
    write_json(result, RESULTS / f"{name}.json")
    _print_and_plot(result, name)
    return 0


def _report(args: argparse.Namespace) -> int:
    """Merge finished runs (e.g. the 10k-100k side-by-side and a separate 1M run) into one report."""
    from .report import write_json

    merged: dict[str, Any] = {"mode": "report", "inputs": args.inputs, "sizes": {}}
    for path in args.inputs:
        data = json.loads(Path(path).read_text())
        merged.setdefault("machine", data.get("machine"))
        for size, out in data["sizes"].items():
            if size in merged["sizes"]:  # same size twice: keep every configuration measured
                merged["sizes"][size]["search"].update(out["search"])
            else:
                merged["sizes"][size] = out
    merged["sizes"] = dict(sorted(merged["sizes"].items(), key=lambda kv: int(kv[0])))
    name = args.out or "report"
    write_json(merged, RESULTS / f"{name}.json")
    _print_and_plot(merged, name)
    return 0


def _print_and_plot(result: dict[str, Any], name: str) -> None:
    from .report import table, write_plot

    print()
    print(summary_table(result, table))
    print()
    print(ratio_lines(result))
    series = plot_series(result)
    if any(len(v) for v in series.values()):
        png = write_plot(
            series,
            RESULTS / f"{name}.png",
            title="Per-person search p95 vs store size (2 cores, same embedder)",
        )
        print(f"\nplot: {png}")
    print(f"json: {RESULTS / f'{name}.json'}")


def _baseline(name: str, url: str, wl, vectors, members, subjects, query_vecs) -> dict[str, Any]:
    from django.db import connection

    from memportal.memory.baselines import baseline_pgvector, baseline_qdrant

    from . import run

    run.log(f"  loading {name}")
    if name == "mem0-pgvector":
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS mem0_default")
        baseline = baseline_pgvector(connection_string=url, collection="mem0_default")
    else:
        baseline = baseline_qdrant()
    try:
        loaded = run.load_baseline(baseline, wl, vectors, members)
        ids = loaded.pop("ids")
        if name == "mem0-pgvector":
            with connection.cursor() as cur:
                cur.execute("ANALYZE mem0_default")
        run.log(f"  {name}: loaded {loaded['per_s']:,.0f}/s; searching {len(subjects)} people")
        res = run.search_baseline(baseline, wl, vectors, members, ids, subjects, query_vecs)
        res["load"] = loaded
        return res
    except TimeoutError as exc:
        return {"skipped": str(exc)}
    finally:
        baseline.close()


def summary_table(result: dict[str, Any], table) -> str:
    rows = []
    for size, out in result["sizes"].items():
        for name, s in out["search"].items():
            if "skipped" in s:
                rows.append({"size": int(size), "config": name, "note": s["skipped"]})
                continue
            rows.append(
                {
                    "size": int(size),
                    "config": name,
                    "p50 ms": s["with_embedding_ms"]["p50"],
                    "p95 ms": s["with_embedding_ms"]["p95"],
                    "p99 ms": s["with_embedding_ms"]["p99"],
                    "p50 no-emb": s["without_embedding_ms"]["p50"],
                    "p95 no-emb": s["without_embedding_ms"]["p95"],
                    "recall@10": s["recall_at_10_mean"],
                    "full recall": s["share_full_recall"],
                    "0 rows": s["share_getting_no_rows"],
                }
            )
    cols = [
        "size",
        "config",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p50 no-emb",
        "p95 no-emb",
        "recall@10",
        "full recall",
        "0 rows",
        "note",
    ]
    lines = [table(rows, cols), ""]
    other = []
    for size, out in result["sizes"].items():
        other.append(
            {
                "size": int(size),
                "bulk /s": out["bulk_load"]["per_s"],
                "service /s": out["ingest_service"]["per_s"],
                "export rows/s": out["export"]["rows_per_s"],
                "export peak MB": out["export"]["rss_growth_mb"],
                "offboard rows": out["offboard"]["memories"],
                "offboard s": out["offboard"]["seconds"],
                "left": out["offboard"]["remaining_after"],
                "run s": out["seconds_total"],
            }
        )
    lines.append(table(other, list(other[0].keys())) if other else "")
    return "\n".join(lines)


def ratio_lines(result: dict[str, Any]) -> str:
    lines = []
    for size, out in result["sizes"].items():
        ours = out["search"].get("memportal")
        if not ours:
            continue
        for name, s in out["search"].items():
            if name == "memportal" or "skipped" in s:
                continue
            r50 = s["with_embedding_ms"]["p50"] / ours["with_embedding_ms"]["p50"]
            r95 = s["with_embedding_ms"]["p95"] / ours["with_embedding_ms"]["p95"]
            rn = s["without_embedding_ms"]["p50"] / ours["without_embedding_ms"]["p50"]
            lines.append(
                f"size {int(size):,}: {name} / memportal  p50 {r50:.1f}x  p95 {r95:.1f}x  "
                f"(store only, p50: {rn:.1f}x); recall {s['recall_at_10_mean']} vs "
                f"{ours['recall_at_10_mean']}"
            )
    sizes = sorted(int(s) for s, o in result["sizes"].items() if "memportal" in o["search"])
    if len(sizes) > 1:
        first, last = (
            result["sizes"][str(s)]["search"]["memportal"]["with_embedding_ms"]["p95"] for s in (sizes[0], sizes[-1])
        )
        lines.append(f"memportal p95 at {sizes[-1]:,} / p95 at {sizes[0]:,}: {last / first:.2f}")
    return "\n".join(lines) or "(no ratios: only one configuration)"


def plot_series(result: dict[str, Any]) -> dict[str, list[tuple[int, float]]]:
    """p95 per configuration and size; labels carry the worst recall, since a fast wrong answer is no win."""
    points: dict[str, list[tuple[int, float]]] = {}
    worst: dict[str, float] = {}
    for size, out in result["sizes"].items():
        for name, s in out["search"].items():
            if "skipped" not in s:
                points.setdefault(name, []).append((int(size), s["with_embedding_ms"]["p95"]))
                worst[name] = min(worst.get(name, 1.0), s["recall_at_10_mean"])
    return {f"{name} (recall@10 >= {worst[name]:.2f})": pts for name, pts in points.items()}


if __name__ == "__main__":
    sys.exit(main())
