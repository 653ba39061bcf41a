"""Export benchmark: the staff export (JSON Lines, CSV) of a whole tenant and one person's download.

    .venv/bin/python -m bench.export --size 100000

Runs on its own database (``MEMPORTAL_BENCH_DATABASE``, default ``memportal_bench_export``) on
the embedded server. The store is loaded once through ``memory_bulk_load`` (COPY, the service's
schema) with one random vector for every row (an export never reads vectors) and reused by
later runs of the same size. Each export is drained twice: once timed (rows/s, RSS growth
sampled per chunk), once under tracemalloc (peak Python allocation), because tracemalloc slows
Python down by a factor of two or more. Prints a table and writes bench/results/export.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("MEMPORTAL_BENCH_DATABASE", "memportal_bench_export")

from bench.db import django_setup  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "export.json"
TENANT = "bench_t0"


def log(msg: str) -> None:
    print(msg, flush=True)


def ensure_store(size: int, seed: int) -> dict[str, Any]:
    """One tenant holding ``size`` memories (long-tailed people); reloaded only if the size differs."""
    import numpy as np
    from django.db import connection

    from bench import run
    from bench.workload import generate
    from memportal.memory.models import Membership, Tenant

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM memportal_memories WHERE payload->>'app_id' = %s", [TENANT])
        have = cur.fetchone()[0]
    tenant = Tenant.objects.filter(slug=TENANT).first()
    if have == size and tenant is not None:
        return {"loaded": False, "memories": have, "people": Membership.objects.filter(tenant=tenant).count()}
    workload = generate(size=size, seed=seed, tenants=1)
    run.reset_store(workload)
    members = run.create_members(workload)
    vector = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    vector /= np.linalg.norm(vector)
    vectors = np.broadcast_to(vector, (workload.size, 384))
    log(f"loading {workload.size:,} memories for {len(workload.people):,} people ...")
    loaded = run.load_bulk(workload, vectors, members)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE memportal_memories")
    return {"loaded": True, "memories": workload.size, "people": len(workload.people),
            "load_seconds": loaded["seconds"], "load_per_s": loaded["per_s"]}


def _drain(chunks: Iterator[str], *, count_rows: Callable[[str], int], sample_rss: bool) -> dict[str, Any]:
    import psutil

    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    peak_rss = rss0
    rows = nbytes = n_chunks = 0
    start = time.perf_counter()
    for chunk in chunks:
        data = chunk.encode()  # what the response writes
        nbytes += len(data)
        rows += count_rows(chunk)
        n_chunks += 1
        if sample_rss:
            peak_rss = max(peak_rss, proc.memory_info().rss)
    seconds = time.perf_counter() - start
    return {"rows": rows, "bytes": nbytes, "chunks": n_chunks, "seconds": seconds,
            "rss_growth_mb": (max(peak_rss, proc.memory_info().rss) - rss0) / 1e6}


def measure(name: str, make: Callable[[], Iterator[str]], count_rows: Callable[[str], int]) -> dict[str, Any]:
    gc.collect()
    timed = _drain(make(), count_rows=count_rows, sample_rss=True)
    gc.collect()
    tracemalloc.start()
    _drain(make(), count_rows=count_rows, sample_rss=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = {
        "export": name,
        "rows": timed["rows"],
        "seconds": round(timed["seconds"], 2),
        "rows_per_s": round(timed["rows"] / timed["seconds"]) if timed["seconds"] else None,
        "mb": round(timed["bytes"] / 1e6, 1),
        "chunks": timed["chunks"],
        "tracemalloc_peak_mb": round(peak / 1e6, 2),
        "rss_growth_mb": round(timed["rss_growth_mb"], 2),
    }
    log(f"  {name}: {result['rows']:,} rows in {result['seconds']} s")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="memories in the exported tenant")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch", type=int, default=None, help="rows per batch (default: EXPORT_BATCH_SIZE)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    django_setup()
    from django.conf import settings

    from memportal.memory.models import Membership, Tenant
    from memportal.memory.selectors import memory_count
    from memportal.memory.tenant_selectors import AuditFilter, tenant_scope_counts
    from memportal.staff import services as staff_services
    from memportal.you.selectors import export_chunks

    started = time.perf_counter()
    store = ensure_store(args.size, args.seed)
    tenant = Tenant.objects.get(slug=TENANT)
    batch = args.batch or staff_services.export_batch_size()
    heaviest = tenant_scope_counts(tenant=tenant, key="user_id")[0].value
    member = Membership.objects.select_related("tenant").get(tenant=tenant, subject_id=heaviest)

    def lines(text: str) -> int:
        return text.count("\n")

    flt = AuditFilter()
    results = [
        measure("staff JSONL (whole tenant)",
                lambda: staff_services.export_lines(tenant=tenant, flt=flt, fmt="jsonl", batch_size=batch), lines),
        # CSV: the header is one line; a memory whose text holds a newline would be quoted over two,
        # which the workload's sentences never do.
        measure("staff CSV (whole tenant)",
                lambda: staff_services.export_lines(tenant=tenant, flt=flt, fmt="csv", batch_size=batch),
                lines),
        measure("person download (heaviest person)", lambda: export_chunks(member=member),
                lambda text: text.count('"history"')),
    ]
    results[1]["rows"] -= 1  # the CSV header
    load = os.getloadavg()
    report = {
        "size": args.size,
        "batch_size": batch,
        "store": store,
        "heaviest_person_memories": memory_count(member=member),
        "target": {"seconds": 5.0, "memory_growth_mb": 50.0, "rows": 100_000},
        "results": results,
        "load_average": [round(x, 2) for x in load],
        "cpu_count": os.cpu_count(),
        "database": settings.DATABASES["default"]["NAME"],
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")

    head = f"{'export':36} {'rows':>8} {'s':>6} {'rows/s':>8} {'MB out':>7} {'py peak MB':>10} {'RSS +MB':>8}"
    print()
    print(f"export benchmark: tenant of {args.size:,} memories, batch {batch}, load average {load[0]:.2f}")
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r['export']:36} {r['rows']:>8,} {r['seconds']:>6} {r['rows_per_s'] or 0:>8,} {r['mb']:>7} "
              f"{r['tracemalloc_peak_mb']:>10} {r['rss_growth_mb']:>8}")
    print(f"(heaviest person: {report['heaviest_person_memories']:,} memories; results in {args.out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
