"""Loaders and measurements. Needs Django set up on the benchmark database (bench.db.django_setup)."""

from __future__ import annotations

import hashlib
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .report import percentiles
from .workload import Workload, exact_top_k, recall_at_k, sample_people

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
MEMPORTAL_INDEX = "memportal_memories_app_user_created_idx"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- embeddings ------------------------------------------------------------------------------
def encoder():
    from django.conf import settings

    from memportal.memory.embedding import shared_encoder

    enc = shared_encoder(threads=settings.MEMPORTAL["EMBEDDER_THREADS"])
    enc.encode(["warm up"])
    return enc


def embed_texts(texts: list[str], *, batch: int = 256) -> tuple[np.ndarray, dict[str, float]]:
    """Vectors for ``texts``; each distinct sentence is embedded once and cached on disk."""
    unique = sorted(set(texts))
    key = hashlib.sha256("\n".join(unique).encode()).hexdigest()[:16]
    cache = CACHE_DIR / f"emb-{key}.npy"
    stats: dict[str, float] = {"distinct_texts": len(unique)}
    if cache.exists():
        uvec = np.load(cache)
        stats["cached"] = 1
    else:
        enc = encoder()
        start = time.perf_counter()
        parts = [enc.encode(unique[i : i + batch]) for i in range(0, len(unique), batch)]
        elapsed = time.perf_counter() - start
        uvec = np.vstack(parts).astype(np.float32)
        stats["embed_per_s"] = round(len(unique) / elapsed, 1)
        CACHE_DIR.mkdir(exist_ok=True)
        np.save(cache, uvec)
    index = {t: i for i, t in enumerate(unique)}
    return uvec[[index[t] for t in texts]], stats


# --- memportal: store setup and loading -------------------------------------------------------
def reset_store(workload: Workload) -> None:
    from django.db import connection

    from memportal.memory.models import ErasureReceipt, Membership, Tenant

    with connection.cursor() as cur:
        cur.execute("TRUNCATE memportal_memories, memory_memoryevent, memory_memorymessage")
    bench = Tenant.objects.filter(slug__startswith="bench_")
    ErasureReceipt.objects.filter(tenant__in=bench).delete()
    Membership.objects.filter(tenant__in=bench).delete()
    bench.delete()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE memportal_memories")


def create_members(workload: Workload) -> list[Any]:
    from memportal.memory.models import Membership, Tenant

    tenants = {slug: Tenant.objects.create(slug=slug, name=slug) for slug in workload.tenants}
    members = [Membership(tenant=tenants[p.tenant], external_id=p.external_id) for p in workload.people]
    Membership.objects.bulk_create(members, batch_size=5000)
    return list(Membership.objects.filter(tenant__in=tenants.values()).select_related("tenant").order_by("external_id"))


def load_bulk(workload: Workload, vectors: np.ndarray, members: list[Any], *, chunk: int = 5000) -> dict[str, Any]:
    """memportal.memory.bulk (COPY) in chunks; returns ids (aligned with the workload) and the rate."""
    from django.db import connection

    from memportal.memory.bulk import BulkMemory, memory_bulk_load

    ids: list[str] = []
    start = time.perf_counter()
    for lo in range(0, workload.size, chunk):
        hi = min(lo + chunk, workload.size)
        items = [
            BulkMemory(
                member=members[workload.person_idx[i]],
                text=workload.texts[i],
                vector=vectors[i],
                agent_id=workload.agents[i],
                run_id=workload.runs[i],
                role=workload.roles[i],
                created_at=workload.created[i],
            )
            for i in range(lo, hi)
        ]
        chunk_members = {id(it.member): it.member for it in items}.values()
        ids += memory_bulk_load(items=items, members=list(chunk_members))
        if workload.size >= 100_000 and (hi // chunk) % 20 == 0:
            log(f"  bulk loaded {hi:,}/{workload.size:,}")
    elapsed = time.perf_counter() - start
    with connection.cursor() as cur:
        cur.execute("ANALYZE memportal_memories")
    return {
        "ids": ids, "seconds": round(elapsed, 2), "per_s": round(workload.size / elapsed, 1), **prewarm_store(),
    }


def prewarm_store() -> dict[str, Any]:
    """Read the freshly loaded table and its indexes into shared buffers, as an operator would
    after a bulk import (COPY writes through a small ring buffer, so a load leaves nothing
    cached). A server that has been running keeps its working set, and autoprewarm restores it
    after a restart (memportal/database.py); this puts the benchmark in that state."""
    from django.db import connection

    start = time.perf_counter()
    try:
        with connection.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            cur.execute(
                "SELECT sum(pg_prewarm(c.oid::regclass)) FROM pg_class c "
                "WHERE c.relname LIKE 'memportal_memories%%' AND c.relkind IN ('r', 'i', 't')"
            )
            blocks = cur.fetchone()[0] or 0
    except Exception as exc:  # a server without the extension: measure cold and say so
        return {"prewarm": f"skipped: {type(exc).__name__}"}
    return {"prewarm_blocks": int(blocks), "prewarm_seconds": round(time.perf_counter() - start, 2)}


def ingest_service(workload: Workload, members: list[Any], *, calls: int = 30, per_call: int = 10) -> dict[str, Any]:
    """memory_add with infer=False: one batched embedding per call, then COPY (bench.ingest has the detail)."""
    from memportal.memory.models import Membership
    from memportal.memory.services import memory_add

    # A membership of its own, so the measured people's ground truth is not disturbed.
    member = Membership.objects.create(tenant=members[0].tenant, external_id="bench-ingest")
    texts = workload.texts[: calls * per_call]
    start = time.perf_counter()
    for c in range(calls):
        messages = [{"role": "user", "content": t} for t in texts[c * per_call : (c + 1) * per_call]]
        memory_add(member=member, messages=messages, agent_id="concierge", run_id="bench-ingest")
    elapsed = time.perf_counter() - start
    n = calls * per_call
    return {"memories": n, "seconds": round(elapsed, 2), "per_s": round(n / elapsed, 1)}


def store_size() -> dict[str, Any]:
    """Bytes on disk for the memory table (heap + TOAST) and its indexes."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_table_size('memportal_memories'), pg_indexes_size('memportal_memories'), "
            "(SELECT count(*) FROM memportal_memories)"
        )
        table, indexes, rows = cur.fetchone()
    return {
        "rows": rows,
        "table_mb": round(table / 1e6, 1),
        "indexes_mb": round(indexes / 1e6, 1),
        "bytes_per_memory": round((table + indexes) / max(rows, 1)),
    }


# --- memportal: search ------------------------------------------------------------------------
def _search_sql_only(member: Any, vector: np.ndarray, limit: int = 10) -> list[tuple]:
    """The vector-only search's SQL (the hybrid's vector list), the query vector precomputed."""
    from django.db import connection

    from memportal.memory.selectors import vector_literal

    literal = vector_literal(vector)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, payload, 1 - (vector <=> %s::vector) AS score FROM memportal_memories "
            "WHERE payload->>'app_id' = %s AND payload->>'user_id' = %s "
            "ORDER BY vector <=> %s::vector, id LIMIT %s",
            [literal, member.tenant.slug, member.subject_id, literal, limit],
        )
        return cur.fetchall()


def person_rows(workload: Workload) -> list[np.ndarray]:
    order = np.argsort(workload.person_idx, kind="stable")
    counts = np.bincount(workload.person_idx, minlength=len(workload.people))
    return np.split(order, np.cumsum(counts)[:-1])


def search_memportal(
    workload: Workload,
    vectors: np.ndarray,
    members: list[Any],
    ids: list[str],
    subjects: list[int],
    query_vecs: np.ndarray,
) -> dict[str, Any]:
    from memportal.memory import _rows, ranking
    from memportal.memory.selectors import _scope_sql, memory_search

    rows_of = person_rows(workload)
    with_embed, without, recalls, returned_small = [], [], [], []
    id_pos = {m: i for i, m in enumerate(ids)}
    for n, p in enumerate(subjects):
        q = workload.queries[n % len(workload.queries)]
        member = members[p]
        t0 = time.perf_counter()
        memory_search(member=member, query=q, limit=10)  # the product's search, as timed
        with_embed.append((time.perf_counter() - t0) * 1000)
        # Recall is the exactness of its vector list (the same SQL as the vector-only search): the
        # hybrid's keyword tier and floor change the order and cut on purpose (bench.search_quality).
        where, params = _scope_sql(member)
        hits = ranking.fuse(_rows.search_candidates(where=where, params=params, query=q, limit=10, method="vector"),
                            limit=10, floor=False, method="vector")
        t0 = time.perf_counter()
        _search_sql_only(member, query_vecs[n % len(query_vecs)])
        without.append((time.perf_counter() - t0) * 1000)
        mine = rows_of[p]
        _, exact_scores = exact_top_k(vectors[mine], query_vecs[n % len(query_vecs)])
        got = [float(vectors[id_pos[h.id]] @ query_vecs[n % len(query_vecs)]) for h in hits]
        recalls.append(recall_at_k(got, exact_scores))
        returned_small.append(len(hits) / min(10, len(mine)))
    return _search_summary(with_embed, without, recalls, returned_small)


def _search_summary(
    with_embed: list[float], without: list[float], recalls: list[float], returned: list[float]
) -> dict[str, Any]:
    return {
        "with_embedding_ms": percentiles(with_embed),
        "without_embedding_ms": percentiles(without),
        "recall_at_10_mean": round(statistics.fmean(recalls), 4) if recalls else None,
        "recall_at_10_min": round(min(recalls), 4) if recalls else None,
        "share_full_recall": round(sum(r >= 0.999 for r in recalls) / len(recalls), 4) if recalls else None,
        "share_getting_no_rows": round(sum(r == 0 for r in returned) / len(returned), 4) if returned else None,
    }


def explain_memportal(member: Any, vector: np.ndarray) -> dict[str, Any]:
    """The per-person search plan: must use the (app_id, user_id) btree and no HNSW."""
    from django.db import connection

    from memportal.memory.selectors import vector_literal

    literal = vector_literal(vector)
    with connection.cursor() as cur:
        cur.execute(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id, payload, 1 - (vector <=> %s::vector) AS score "
            "FROM memportal_memories WHERE payload->>'app_id' = %s AND payload->>'user_id' = %s "
            "ORDER BY vector <=> %s::vector, id LIMIT 10",
            [literal, member.tenant.slug, member.subject_id, literal],
        )
        # The 384-float literal would drown the plan: print it as [...].
        plan = "\n".join(r[0] for r in cur.fetchall()).replace(literal, "[...]")
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'memportal_memories'")
        indexes = sorted(r[0] for r in cur.fetchall())
    return {
        "plan": plan,
        "uses_btree": MEMPORTAL_INDEX in plan,
        "uses_hnsw": "hnsw" in plan.lower(),
        "indexes": indexes,
    }


# --- export and offboarding -------------------------------------------------------------------
def export_tenant(members: list[Any], tenant: str) -> dict[str, Any]:
    """The staff export of a whole tenant (JSON Lines, streamed): rows/s and peak memory.

    The product's own path (``staff.services.export_lines``: one keyset walk of the tenant along
    its index, 2,000-row chunks), timed once and measured once more under tracemalloc.
    """
    from bench.export import measure
    from memportal.memory.models import Tenant
    from memportal.memory.tenant_selectors import AuditFilter
    from memportal.staff import services as staff_services

    scope = Tenant.objects.get(slug=tenant)
    result = measure(
        "staff JSONL (whole tenant)",
        lambda: staff_services.export_lines(tenant=scope, flt=AuditFilter(), fmt="jsonl"),
        lambda text: text.count("\n"),
    )
    return {
        "tenant": tenant,
        "rows": result["rows"],
        "seconds": result["seconds"],
        "rows_per_s": result["rows_per_s"],
        "peak_python_alloc_mb": result["tracemalloc_peak_mb"],
        "rss_growth_mb": result["rss_growth_mb"],
    }


def offboard_tenant(tenant_slug: str, *, batch_size: int = 5000) -> dict[str, Any]:
    from memportal.memory.models import Tenant
    from memportal.memory.services import tenant_erase_batch, tenant_memory_count

    tenant = Tenant.objects.get(slug=tenant_slug)
    before = tenant_memory_count(tenant=tenant)
    start = time.perf_counter()
    erased = batches = 0
    while True:
        result = tenant_erase_batch(tenant=tenant, batch_size=batch_size)
        batches += 1
        erased += result.memories
        if result.memories == 0:
            break
    elapsed = time.perf_counter() - start
    remaining = tenant_memory_count(tenant=tenant)
    return {
        "tenant": tenant_slug,
        "memories": before,
        "erased": erased,
        "batches": batches,
        "seconds": round(elapsed, 2),
        "remaining_after": remaining,
    }


# --- mem0 baselines ---------------------------------------------------------------------------
def load_baseline(
    baseline: Any,
    workload: Workload,
    vectors: np.ndarray,
    members: list[Any],
    *,
    chunk: int = 1000,
    budget_s: float = 900,
) -> dict[str, Any]:
    """Insert the same rows through mem0's store.insert, with mem0's payload keys."""
    ids = [str(uuid.uuid4()) for _ in range(workload.size)]
    start = time.perf_counter()
    for lo in range(0, workload.size, chunk):
        hi = min(lo + chunk, workload.size)
        payloads = []
        for i in range(lo, hi):
            m = members[workload.person_idx[i]]
            payloads.append(
                {
                    "data": workload.texts[i],
                    "user_id": m.subject_id,
                    "app_id": m.tenant.slug,
                    "agent_id": workload.agents[i],
                    "run_id": workload.runs[i],
                    "role": workload.roles[i],
                    "created_at": workload.created[i].isoformat(),
                }
            )
        baseline.insert(vectors=vectors[lo:hi].tolist(), ids=ids[lo:hi], payloads=payloads)
        if time.perf_counter() - start > budget_s:
            raise TimeoutError(f"{baseline.name}: loading exceeded {budget_s:.0f} s at {hi:,} rows")
    elapsed = time.perf_counter() - start
    return {"ids": ids, "seconds": round(elapsed, 2), "per_s": round(workload.size / elapsed, 1)}


def search_baseline(
    baseline: Any,
    workload: Workload,
    vectors: np.ndarray,
    members: list[Any],
    ids: list[str],
    subjects: list[int],
    query_vecs: np.ndarray,
) -> dict[str, Any]:
    rows_of = person_rows(workload)
    id_pos = {m: i for i, m in enumerate(ids)}
    with_embed, without, recalls, returned = [], [], [], []
    for n, p in enumerate(subjects):
        q = workload.queries[n % len(workload.queries)]
        qv = query_vecs[n % len(query_vecs)]
        user = members[p].subject_id
        t0 = time.perf_counter()
        baseline.search(query=q, user_id=user, limit=10)
        with_embed.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        hits = baseline.search_vector(vector=qv, user_id=user, limit=10)
        without.append((time.perf_counter() - t0) * 1000)
        mine = rows_of[p]
        _, exact_scores = exact_top_k(vectors[mine], qv)
        got = [float(vectors[id_pos[h]] @ qv) for h in hits if h in id_pos]
        recalls.append(recall_at_k(got, exact_scores))
        returned.append(len(hits) / min(10, len(mine)))
    return _search_summary(with_embed, without, recalls, returned)


def subjects_for(workload: Workload, count: int) -> list[int]:
    return sample_people(workload, count=count)


def search_existing(*, people: int = 200, seed: int = 11) -> dict[str, Any]:
    """Latency only, against the store as it is (no reload): each person's search is timed
    cold (first touch) and warm (repeated), with the embedding timed on its own, so a p95 can
    be attributed to the cache, the database or the embedder."""
    import random

    from django.db import connection

    from memportal.memory.models import Membership
    from memportal.memory.selectors import memory_search

    with connection.cursor() as cur:
        cur.execute("SELECT payload->>'user_id', count(*) FROM memportal_memories GROUP BY 1 ORDER BY 2 DESC LIMIT 20")
        heavy = [r[0] for r in cur.fetchall() if r[1] >= 1000]
        cur.execute("SELECT count(*) FROM memportal_memories")
        total = cur.fetchone()[0]
    subjects = list(
        Membership.objects.filter(tenant__slug__startswith="bench_t", external_id__startswith="p").values_list(
            "subject_id", flat=True
        )
    )
    rng = random.Random(seed)
    chosen = heavy + rng.sample(subjects, min(people - len(heavy), len(subjects)))
    members = {m.subject_id: m for m in Membership.objects.filter(subject_id__in=chosen).select_related("tenant")}
    enc = encoder()
    from .workload import QUERIES

    cold, warm, sql_only, embed_only = [], [], [], []
    for n, subject in enumerate(chosen):
        member = members[subject]
        q = QUERIES[n % len(QUERIES)]
        t0 = time.perf_counter()
        memory_search(member=member, query=q, limit=10)
        cold.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        memory_search(member=member, query=q, limit=10)
        warm.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        vec = enc.encode([q])[0]
        embed_only.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        _search_sql_only(member, vec)
        sql_only.append((time.perf_counter() - t0) * 1000)
    return {
        "rows_in_store": total,
        "people": len(chosen),
        "first_search_ms": percentiles(cold),
        "repeat_search_ms": percentiles(warm),
        "embedding_only_ms": percentiles(embed_only),
        "sql_only_ms": percentiles(sql_only),
    }
