"""The "your data" page (/you/) through HTTP under gunicorn, driven by wrk at several concurrencies.

Standalone: ``python -m bench.http --load 100000`` (re)fills the benchmark database, then measures;
``--threads 1`` for sync workers; ``--before DIR`` serves another checkout (e.g. main) at the same
time and loads the two in turn, level by level (``--rounds`` times), for a fair side-by-side on a
shared machine. Each level also reports CPU milliseconds per request of the gunicorn workers and
of PostgreSQL, which noise moves far less than requests/s. Prints a table and writes
``bench/results/<out>.json`` and ``.png``.

Runs against whatever the benchmark database holds (run ``python -m bench quick`` or ``full``
first). Signs in ``people`` of the loaded people (typical ones and the heaviest) by giving their
memberships a user and a session, then rotates their session cookies across requests.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from .run import log

LUA = """
local cookies = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/you/", {["Cookie"] = "sessionid=" .. cookies[(i %% #cookies) + 1]})
end
done = function(summary, latency, requests)
  io.write(string.format("P50=%%d P95=%%d P99=%%d ERR=%%d\\n", latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status + summary.errors.connect + summary.errors.timeout))
end
"""


def _sessions(people: int) -> tuple[list[str], int]:
    """Session cookies for ``people`` loaded people (the heaviest first); their largest memory count."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from memportal.memory.models import Membership

    with connection.cursor() as cur:
        cur.execute("SELECT payload->>'user_id', count(*) FROM memportal_memories GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        heavy_subject, heavy_count = cur.fetchone()
    members = [Membership.objects.get(subject_id=heavy_subject)]
    members += list(
        Membership.objects.filter(tenant__slug="bench_t0", user__isnull=True, external_id__startswith="p")
        .exclude(subject_id=heavy_subject)
        .order_by("external_id")[: people - 1]
    )
    user_model = get_user_model()
    cookies = []
    for n, member in enumerate(members):
        user, _ = user_model.objects.get_or_create(username=f"bench-http-{n}", defaults={"email": f"b{n}@example.com"})
        Membership.objects.filter(user=user).exclude(pk=member.pk).update(user=None)
        Membership.objects.filter(pk=member.pk).update(user=user)
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    return cookies, heavy_count


def _cpu(server_pid: int, database: str) -> dict[tuple[str, int], float]:
    """CPU seconds used so far by each gunicorn worker and each PostgreSQL backend serving
    ``database``, by process (``_cpu_delta`` compares two of these).

    Per-request CPU is what decides throughput on a shared 2-core machine, and unlike latency it
    barely moves when other processes compete for the cores.
    """
    import psutil

    def used(proc: psutil.Process) -> float:
        try:
            t = proc.cpu_times()
            return t.user + t.system
        except psutil.Error:
            return 0.0

    out = {("py", p.pid): used(p) for p in psutil.Process(server_pid).children(recursive=True)}
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info.get("cmdline") or [])
        if cmd.startswith("postgres: ") and f" {database} " in f"{cmd} ":
            out[("pg", proc.pid)] = used(proc)
    return out


def _cpu_delta(before: dict[tuple[str, int], float], after: dict[tuple[str, int], float]) -> tuple[float, float]:
    """Python and PostgreSQL CPU seconds between two samples, process by process: a process that
    started in between counts from zero, one that ended is left out (never a negative total)."""
    py = pg = 0.0
    for (kind, pid), seconds in after.items():
        delta = max(0.0, seconds - before.get((kind, pid), 0.0))
        if kind == "py":
            py += delta
        else:
            pg += delta
    return py, pg


def _wait(url: str, cookie: str, timeout: float = 60) -> bytes:
    deadline = time.time() + timeout
    while True:
        try:
            req = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})  # noqa: S310 - loopback
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback only
                if resp.status != 200 or "/accounts/" in resp.url:
                    raise RuntimeError(f"/you/ answered {resp.status} at {resp.url}: not signed in")
                return resp.read()
        except (OSError, ConnectionError):
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def _serve(*, app_dir: Path, port: int, workers: int, threads: int, env: dict[str, str]) -> subprocess.Popen:
    base = Path(__file__).resolve().parent.parent
    return subprocess.Popen(
        [
            str(base / ".venv/bin/gunicorn"),
            "memportal.wsgi",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(app_dir),
            "--log-level",
            "warning",
        ],
        cwd=app_dir,
        env=env,
        start_new_session=True,
    )


def _wrk(wrk: str, script: str, port: int, conc: int, seconds: int) -> dict[str, Any]:
    proc = subprocess.run(
        [wrk, "-t1", f"-c{conc}", f"-d{seconds}s", "--timeout", "10s", "-s", script, f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        check=False,
    )
    rps = re.search(r"Requests/sec:\s+([\d.]+)", proc.stdout)
    pct = re.search(r"P50=(\d+) P95=(\d+) P99=(\d+) ERR=(\d+)", proc.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", proc.stdout)
    done = re.search(r"(\d+) requests in", proc.stdout)
    row: dict[str, Any] = {
        "requests": int(done.group(1)) if done else 0,
        "requests_per_s": float(rps.group(1)) if rps else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }
    if pct:
        row.update(
            p50_ms=int(pct.group(1)) / 1000,
            p95_ms=int(pct.group(2)) / 1000,
            p99_ms=int(pct.group(3)) / 1000,
            errors=int(pct.group(4)),
        )
    return row


def _median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else None


def run_http(
    *,
    database_url: str,
    people: int = 50,
    workers: int = 4,
    threads: int = 1,
    levels: tuple[int, ...] = (1, 4, 16, 32),
    seconds: int = 10,
    port: int = 8765,
    app_dir: str | None = None,
    settings_module: str = "memportal.settings",
    apps: dict[str, str] | None = None,
    rounds: int = 1,
) -> dict[str, Any]:
    """Serve each checkout in ``apps`` (label -> directory; default: this one, or ``app_dir``) under its
    own gunicorn at the same time, and load them in turn: for each round, each level, each app. Taking
    turns, every version sees the same machine load, which is what makes a side-by-side comparison on a
    shared machine fair. Per app and level: the median requests/s and latency percentiles over the
    rounds, and CPU ms per request (gunicorn workers, PostgreSQL backends) over all of them."""
    from django.conf import settings

    wrk = shutil.which("wrk")
    if wrk is None:
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    base = Path(__file__).resolve().parent.parent
    if apps is None:
        apps = {"this checkout": str(Path(app_dir or base).resolve())}
    cookies, heavy_count = _sessions(people)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        # The key the session cookies above were signed with, for every server of the run (each
        # checkout would otherwise use its own development key and reject them).
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "MEMPORTAL_EMBEDDER_THREADS": "1",
        "DJANGO_SETTINGS_MODULE": settings_module,
    }
    servers = {
        label: (port + i, _serve(app_dir=Path(d), port=port + i, workers=workers, threads=threads, env=env))
        for i, (label, d) in enumerate(apps.items())
    }
    out: dict[str, Any] = {
        "workers": workers,
        "threads": threads,
        "signed_in_people": len(cookies),
        "heaviest_person_memories": heavy_count,
        "rounds": rounds,
        "seconds_per_level": seconds,
        "apps": dict(apps),
        "page_bytes_heaviest": {},
        "levels": [],
    }
    database = urllib.parse.urlparse(database_url).path.lstrip("/")
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(LUA % ", ".join(f'"{c}"' for c in cookies))
            script = fh.name
        for label, (p, _) in servers.items():
            out["page_bytes_heaviest"][label] = len(_wait(f"http://127.0.0.1:{p}/you/", cookies[0]))
            _wrk(wrk, script, p, 4, 3)  # warm every worker: connection, templates, each person's rows
        samples: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for r in range(rounds):
            for conc in levels:
                for label, (p, server) in servers.items():
                    cpu0 = _cpu(server.pid, database)
                    row = _wrk(wrk, script, p, conc, seconds)
                    row["cpu_py_s"], row["cpu_pg_s"] = _cpu_delta(cpu0, _cpu(server.pid, database))
                    row["load_average_1m"] = os.getloadavg()[0]
                    samples.setdefault((label, conc), []).append(row)
                    log(f"  http round {r + 1} {label} c={conc}: {row.get('requests_per_s')} req/s, "
                        f"p95 {row.get('p95_ms')} ms")
        for (label, conc), rows in samples.items():
            n = sum(x["requests"] for x in rows)
            level = {
                "app": label,
                "concurrency": conc,
                "requests_per_s": _median([x.get("requests_per_s") for x in rows]),
                "p50_ms": _median([x.get("p50_ms") for x in rows]),
                "p95_ms": _median([x.get("p95_ms") for x in rows]),
                "p99_ms": _median([x.get("p99_ms") for x in rows]),
                "errors": sum(x.get("errors", 0) for x in rows),
                "non_2xx": sum(x["non_2xx"] for x in rows),
                "rounds": rows,
            }
            if n:
                level["django_cpu_ms_per_request"] = round(sum(x["cpu_py_s"] for x in rows) / n * 1000, 2)
                level["postgres_cpu_ms_per_request"] = round(sum(x["cpu_pg_s"] for x in rows) / n * 1000, 2)
            out["levels"].append(level)
        os.unlink(script)
    finally:
        for _, server in servers.values():
            os.killpg(server.pid, signal.SIGTERM)
        for _, server in servers.values():
            server.wait(timeout=30)
    return out


COLUMNS = ["app", "concurrency", "requests_per_s", "p50_ms", "p95_ms", "p99_ms", "non_2xx",
           "django_cpu_ms_per_request", "postgres_cpu_ms_per_request"]


def write_http_plot(res: dict[str, Any], path: Path) -> Path:
    """Requests/s and p95 against concurrency, one line per app (before/after side by side)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for label in res["apps"]:
        rows = sorted((x for x in res["levels"] if x["app"] == label), key=lambda x: x["concurrency"])
        conc = [x["concurrency"] for x in rows]
        left.plot(conc, [x["requests_per_s"] or 0 for x in rows], marker="o", label=label)
        right.plot(conc, [x["p95_ms"] or 0 for x in rows], marker="o", label=label)
    left.axhline(400, color="grey", linestyle="--", linewidth=1, label="goal: 400 req/s")
    right.axhline(30, color="grey", linestyle="--", linewidth=1, label="goal: p95 30 ms")
    for ax, ylabel in ((left, "requests/s"), (right, "p95 latency (ms)")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent connections (wrk)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f'"Your data" page (/you/), gunicorn {res["workers"]} workers x {res["threads"]} threads, 2 cores')
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def load(size: int, *, seed: int = 42) -> dict[str, Any]:
    """Fill the benchmark database with ``size`` memories (the same workload and bulk path as ``bench.run``)."""
    from . import run
    from .workload import generate

    log(f"generating {size:,} memories")
    wl = generate(size=size, seed=seed)
    vectors, _ = run.embed_texts(wl.texts)
    run.reset_store(wl)
    members = run.create_members(wl)
    loaded = run.load_bulk(wl, vectors, members)
    loaded.pop("ids")
    log(f"loaded {size:,} memories for {len(wl.people):,} people in {loaded['seconds']} s")
    return loaded


def main() -> int:
    """``python -m bench.http [--load N] [--before DIR] [--rounds 3] [--levels 1,4,16,32] [--out NAME]``."""
    import argparse

    from .report import machine, table, write_json

    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.add_argument("--load", type=int, default=0, help="first (re)load the store with this many memories")
    parser.add_argument("--workers", type=int, default=4, help="two sync workers per core (docs/configuration.md)")
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker (1 = sync worker)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--levels", default="1,4,16,32")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every level this often, apps taking turns")
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--no-run", action="store_true", help="only load")
    parser.add_argument("--app-dir", help="serve another checkout instead of this one")
    parser.add_argument("--before", help="also serve this checkout (e.g. a worktree of main), side by side")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--settings", default="memportal.settings", help="settings module gunicorn serves with")
    parser.add_argument("--out", default="http", help="results name: bench/results/<out>.json and .png")
    args = parser.parse_args()
    from .db import django_setup

    url = django_setup()
    if args.load:
        load(args.load)
    if args.no_run:
        return 0
    after = str(Path(args.app_dir or Path(__file__).resolve().parent.parent).resolve())
    apps = {"before": str(Path(args.before).resolve()), "after": after} if args.before else {"this checkout": after}
    res = run_http(
        database_url=url,
        people=args.people,
        workers=args.workers,
        threads=args.threads,
        levels=tuple(int(x) for x in args.levels.split(",")),
        seconds=args.seconds,
        port=args.port,
        settings_module=args.settings,
        apps=apps,
        rounds=args.rounds,
    )
    res["settings"] = args.settings
    res["load_average"] = os.getloadavg()
    results = Path(__file__).resolve().parent / "results"
    write_json({"machine": machine(), "http": res}, results / f"{args.out}.json")
    if "levels" in res:
        rows = sorted(res["levels"], key=lambda x: (x["concurrency"], list(apps).index(x["app"])))
        print(table(rows, COLUMNS))
        write_http_plot(res, results / f"{args.out}.png")
        print(f"\nwrote bench/results/{args.out}.json and bench/results/{args.out}.png")
    else:
        print(res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
