"""Ingest through the memory service with infer=False: memories/s, before and after, side by side.

    MEMPORTAL_BENCH_DATABASE=memportal_bench_ingest .venv/bin/python -m bench.ingest [--quick]

Measured in ONE run (so load on the shared machine hits every line alike), each line the median
of ``--repeats`` runs:

- the embedder alone (mem0's configured embedder, ``embed`` one text at a time and
  ``embed_batch`` 10 / 100 at a time), which bounds everything that embeds;
- ``memory_add`` through mem0's own add loop as it was before (one ``embed`` per message),
  through mem0's loop with the call's texts embedded in one batch, and through the fast path
  (the default: one batched embedding, binary COPY, no re-read), with 1, 10 and 50 messages
  per call; ``memory_add_many`` with 100 and 1,000;
- the store side alone: the fast path's writer and ``memory_bulk_load`` with vectors computed
  beforehand (what ingest would reach with a free embedder).

Writes bench/results/ingest.json (ingest-threads<N>.json with MEMPORTAL_EMBEDDER_THREADS=N).
Uses its own tenant and cleans it up; never the site database.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.db import django_setup
from bench.report import machine, table, write_json
from bench.workload import _sentence

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"
TENANT = "bench_ingest"


def _texts(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [_sentence(rng) for _ in range(n)]


def _median_rate(runs: list[tuple[int, float]]) -> dict[str, Any]:
    rates = [n / s for n, s in runs]
    return {"per_s": round(statistics.median(rates), 1), "runs_per_s": [round(r, 1) for r in rates],
            "memories": sum(n for n, _ in runs)}


def _loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def bench_embedder(memory: Any, repeats: int, quick: bool) -> list[dict[str, Any]]:
    model = memory.embedding_model
    rows = []
    for batch, total in ((1, 50 if quick else 100), (10, 200 if quick else 400), (100, 400 if quick else 1000)):
        runs = []
        for r in range(repeats):
            texts = _texts(total, seed=100 + r)
            start = time.perf_counter()
            for i in range(0, total, batch):
                if batch == 1:
                    model.embed(texts[i], "add")
                else:
                    model.embed_batch(texts[i : i + batch], "add")
            runs.append((total, time.perf_counter() - start))
        rows.append({"path": "embedder alone", "per_call": batch, **_median_rate(runs)})
    return rows


@contextlib.contextmanager
def _mode(mode: str):
    """Select a writer: "fast" (default), "mem0" (mem0's loop, batched embedding), "mem0-before"."""
    from django.conf import settings

    from memportal.memory import services

    old_settings = settings.MEMPORTAL
    old_prefetch = services.embeddings_prefetched
    settings.MEMPORTAL = {**old_settings, "INGEST": "fast" if mode == "fast" else "mem0"}
    if mode == "mem0-before":
        # What memory_add did before: mem0 embeds each message on its own.
        services.embeddings_prefetched = lambda memory, texts: contextlib.nullcontext()
    try:
        yield
    finally:
        settings.MEMPORTAL = old_settings
        services.embeddings_prefetched = old_prefetch


@contextlib.contextmanager
def _embedding_timer(memory: Any):
    """Adds the seconds spent inside the embedder to the yielded list (to split each line's time)."""
    model = memory.embedding_model
    spent = [0.0]

    def timed(method: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start
        return wrapper

    model.embed, model.embed_batch = timed(model.embed), timed(model.embed_batch)
    try:
        yield spent
    finally:
        del model.embed, model.embed_batch  # back to the class's methods


def bench_service(member: Any, memory: Any, repeats: int, quick: bool) -> list[dict[str, Any]]:
    from memportal.memory.services import memory_add, memory_add_many

    plan = [
        ("mem0-before", "memory_add", 1, 60), ("mem0-before", "memory_add", 10, 150),
        ("mem0", "memory_add", 1, 60), ("mem0", "memory_add", 10, 150), ("mem0", "memory_add", 50, 300),
        ("fast", "memory_add", 1, 100), ("fast", "memory_add", 10, 300), ("fast", "memory_add", 50, 500),
        ("fast", "memory_add_many", 100, 500), ("fast", "memory_add_many", 1000, 1000),
    ]
    rows = []
    for mode, func, per_call, total in plan:
        total = max(per_call, total // 2) if quick else total
        runs = []
        embed_seconds = 0.0
        for r in range(repeats):
            texts = _texts(total, seed=1000 * per_call + r)
            calls = [texts[i : i + per_call] for i in range(0, total, per_call)]
            with _mode(mode), _embedding_timer(memory) as spent:
                start = time.perf_counter()
                for chunk in calls:
                    messages = [{"role": "user", "content": t} for t in chunk]
                    if func == "memory_add":
                        memory_add(member=member, messages=messages, agent_id="concierge", run_id=f"r{r}")
                    else:
                        memory_add_many(member=member, messages=messages, agent_id="concierge", run_id=f"r{r}")
                runs.append((total, time.perf_counter() - start))
            embed_seconds += spent[0]
        label = {"mem0-before": "mem0 loop, embed per message (before)",
                 "mem0": "mem0 loop, batched embed", "fast": "fast path (default)"}[mode]
        share = embed_seconds / sum(seconds for _, seconds in runs)
        rows.append({"path": f"{func}: {label}", "per_call": per_call, **_median_rate(runs),
                     "embedding_share": round(share, 2)})
    return rows


def bench_store_only(member: Any, memory: Any, repeats: int, quick: bool) -> list[dict[str, Any]]:
    """Vectors computed beforehand: what the writers cost without the embedder."""
    from django.db import transaction

    from memportal.memory.bulk import BulkMemory, NewMemory, memories_write, memory_bulk_load

    total = 1000 if quick else 2000
    texts = _texts(total, seed=7)
    vectors = memory.embedding_model.embed_batch(texts, "add")
    rows = []
    for per_call in (10, 100, 1000):
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(0, total, per_call):
                with transaction.atomic():
                    memories_write(
                        member=member,
                        memories=[NewMemory(text=t, role="user", vector=v)
                                  for t, v in zip(texts[i : i + per_call], vectors[i : i + per_call], strict=True)],
                        agent_id="concierge", run_id="store", metadata={"app_id": member.tenant.slug},
                    )
            runs.append((total, time.perf_counter() - start))
        rows.append({"path": "fast path writer only (vectors given)", "per_call": per_call, **_median_rate(runs)})
    runs = []
    for _ in range(repeats):
        items = [BulkMemory(member=member, text=t, vector=v, agent_id="concierge", run_id="copy")
                 for t, v in zip(texts, vectors, strict=True)]
        start = time.perf_counter()
        memory_bulk_load(items=items, members=[member])
        runs.append((total, time.perf_counter() - start))
    rows.append({"path": "memory_bulk_load COPY (vectors given)", "per_call": total, **_median_rate(runs)})
    return rows


def _cleanup(tenant: Any) -> None:
    from memportal.memory.services import tenant_erase_batch

    while tenant_erase_batch(tenant=tenant, batch_size=20000).memories:
        pass


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="half the memories per line (about 30 s)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("MEMPORTAL_BENCH_DATABASE", "memportal_bench_ingest")
    django_setup()
    from django.conf import settings

    from memportal.memory.mem0_backend import get_memory
    from memportal.memory.models import Membership, Tenant

    tenant, _ = Tenant.objects.get_or_create(slug=TENANT, defaults={"name": "Bench ingest"})
    _cleanup(tenant)
    member, _ = Membership.objects.get_or_create(tenant=tenant, external_id="bench-ingest")
    memory = get_memory()
    memory.embedding_model.embed_batch(_texts(64, seed=1), "add")  # load the model, warm up
    load_before = _loadavg()
    started = time.perf_counter()
    rows = bench_embedder(memory, args.repeats, args.quick)
    rows += bench_service(member, memory, args.repeats, args.quick)
    rows += bench_store_only(member, memory, args.repeats, args.quick)
    elapsed = time.perf_counter() - started
    _cleanup(tenant)
    result = {
        "command": "python -m bench.ingest" + (" --quick" if args.quick else ""),
        "machine": machine(),
        "embedder": settings.MEMPORTAL["EMBEDDER"],
        "embedder_threads": settings.MEMPORTAL["EMBEDDER_THREADS"],
        "loadavg_1m_before": load_before,
        "loadavg_1m_after": _loadavg(),
        "seconds": round(elapsed, 1),
        "target_per_s": 2000,
        "rows": rows,
    }
    print(table(rows, ["path", "per_call", "per_s", "runs_per_s", "embedding_share", "memories"]))
    print(f"embedder={result['embedder']} threads={result['embedder_threads']} "
          f"load {load_before} -> {result['loadavg_1m_after']}, {elapsed:.0f} s")
    threads = result["embedder_threads"]
    path = RESULTS if threads == 1 else RESULTS.with_name(f"ingest-threads{threads}.json")
    print(f"wrote {write_json(result, path)}")
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
