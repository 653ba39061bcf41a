"""The benchmark's workload generator and report writer work on a tiny size (no database)."""

from __future__ import annotations

import json

import numpy as np

from bench.report import percentiles, table, write_json, write_plot
from bench.workload import exact_top_k, generate, recall_at_k, sample_people


def test_it_generates_exactly_the_requested_size_seeded():
    a = generate(size=3000, seed=1)
    b = generate(size=3000, seed=1)
    assert a.size == 3000
    assert sum(p.n_memories for p in a.people) == 3000
    assert np.bincount(a.person_idx).tolist() == [p.n_memories for p in a.people]
    assert a.texts == b.texts and a.person_idx.tolist() == b.person_idx.tolist()
    assert len(a.people) == 300 and set(a.agents) <= {"concierge", "travel", "health", "support", "shopping"}


def test_it_is_long_tailed_with_a_heavy_person():
    wl = generate(size=20_000, seed=3)
    sizes = sorted(p.n_memories for p in wl.people)
    assert sizes[len(sizes) // 2] <= 15  # the typical person has a handful
    assert sizes[-1] >= 1000  # someone has thousands
    heavy = sample_people(wl, count=50)
    assert wl.people[heavy[0]].n_memories >= 1000 and len(set(heavy)) == len(heavy)


def test_recall_counts_ties_and_misses():
    vecs = np.eye(4, dtype=np.float32)
    top, scores = exact_top_k(vecs, np.array([1, 0.5, 0, 0], dtype=np.float32), k=2)
    assert top.tolist() == [0, 1]
    assert recall_at_k([1.0, 0.5], scores, k=2) == 1.0
    assert recall_at_k([1.0], scores, k=2) == 0.5
    assert recall_at_k([], scores, k=2) == 0.0


def test_it_writes_table_json_and_png(tmp_path):
    stats = percentiles([1.0, 2.0, 3.0, 100.0])
    assert stats["n"] == 4 and stats["p50"] == 2.5
    text = table([{"size": 10_000, "config": "memportal", "p95 ms": stats["p95"]}], ["size", "config", "p95 ms"])
    assert "memportal" in text and "10,000" in text
    path = write_json({"sizes": {"10000": stats}}, tmp_path / "r.json")
    assert json.loads(path.read_text())["sizes"]["10000"]["n"] == 4
    png = write_plot({"memportal": [(10_000, 5.0), (100_000, 5.5)]}, tmp_path / "r.png", title="t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
