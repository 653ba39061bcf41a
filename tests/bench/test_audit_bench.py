"""bench.audit measures the staff audit page end to end on a tiny generated store."""

from __future__ import annotations

import pytest

from bench import run
from bench.audit import run_audit
from bench.workload import generate


@pytest.mark.django_db(transaction=True)
def test_the_audit_benchmark_runs_on_a_tiny_store(settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    wl = generate(size=400, people=40, seed=7)
    vectors, _ = run.embed_texts(wl.texts)
    run.reset_store(wl)
    run.load_bulk(wl, vectors, run.create_members(wl))
    result = run_audit(requests=2)
    assert result["tenant"] == "bench_t0" and result["tenant_memories"] > 0
    names = [s["scenario"] for s in result["scenarios"]]
    assert "page 1, whole tenant" in names and "person lookup 'p00'" in names
    for row in result["scenarios"]:
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["max_ms"], row
        assert 0 < row["queries"] <= 14 and row["bytes"] < 60_000, row
