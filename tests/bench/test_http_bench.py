"""bench.http's bookkeeping: CPU per request never goes negative when processes come and go, and a
side-by-side result becomes a plot."""

from __future__ import annotations

from bench.http import _cpu_delta, write_http_plot


def test_cpu_delta_counts_new_processes_from_zero_and_leaves_ended_ones_out():
    before = {("py", 1): 2.0, ("pg", 10): 5.0, ("pg", 11): 9.0}
    after = {("py", 1): 2.5, ("pg", 10): 5.25, ("pg", 12): 0.5}  # backend 11 ended, 12 started
    assert _cpu_delta(before, after) == (0.5, 0.75)


def test_it_plots_before_and_after(tmp_path):
    res = {
        "apps": {"before": "/a", "after": "/b"}, "workers": 4, "threads": 1,
        "levels": [
            {"app": app, "concurrency": c, "requests_per_s": rps, "p95_ms": p95}
            for app, rps, p95 in (("before", 260.0, 25.0), ("after", 420.0, 15.0)) for c in (1, 4, 16)
        ],
    }
    path = write_http_plot(res, tmp_path / "http.png")
    assert path.stat().st_size > 1000
