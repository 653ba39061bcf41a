"""The benchmark's loaders and measurements run end to end on a tiny store (real PostgreSQL)."""

from __future__ import annotations

import pytest

from bench import run
from bench.__main__ import plot_series, ratio_lines, summary_table
from bench.report import table
from bench.workload import generate


@pytest.mark.django_db(transaction=True)
def test_it_loads_searches_exports_and_offboards_a_tiny_store():
    wl = generate(size=300, people=30, seed=5)
    vectors, _ = run.embed_texts(wl.texts)
    run.reset_store(wl)
    members = run.create_members(wl)
    ids = run.load_bulk(wl, vectors, members)["ids"]
    assert len(ids) == 300

    subjects = run.subjects_for(wl, 10)
    query_vecs = run.encoder().encode(wl.queries)
    search = run.search_memportal(wl, vectors, members, ids, subjects, query_vecs)
    assert search["recall_at_10_min"] == 1.0 and search["share_getting_no_rows"] == 0.0

    plan = run.explain_memportal(members[subjects[0]], query_vecs[0])
    assert plan["uses_btree"] and not plan["uses_hnsw"] and "[...]" in plan["plan"]

    exported = run.export_tenant(members, wl.tenants[2])
    assert exported["rows"] == sum(p.n_memories for p in wl.people if p.tenant == wl.tenants[2])
    erased = run.offboard_tenant(wl.tenants[-1])
    assert erased["remaining_after"] == 0 and erased["erased"] == erased["memories"] > 0

    result = {
        "sizes": {
            "300": {
                "search": {"memportal": search, "mem0-qdrant": {**search, "recall_at_10_mean": 1.0}},
                "bulk_load": {"per_s": 1.0},
                "ingest_service": {"per_s": 1.0},
                "export": exported,
                "offboard": erased,
                "seconds_total": 1.0,
            }
        }
    }
    assert "memportal" in summary_table(result, table)
    assert "mem0-qdrant / memportal" in ratio_lines(result)
    assert set(plot_series(result)) == {"memportal (recall@10 >= 1.00)", "mem0-qdrant (recall@10 >= 1.00)"}
