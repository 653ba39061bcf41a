"""The "your data" page (/you/) through HTTP under gunicorn, driven by wrk at several concurrencies.

Standalone: ``python -m bench.http --load 100000`` (re)fills the benchmark database, then measures;
``--threads 1`` for sync workers, ``--app-dir DIR`` to serve another checkout side by side. Each
level also reports CPU milliseconds per request of the gunicorn workers and of PostgreSQL.

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


def _cpu(server_pid: int, database: str) -> tuple[float, float]:
    """CPU seconds used so far by the gunicorn workers and by the PostgreSQL backends serving ``database``.

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

    workers = psutil.Process(server_pid).children(recursive=True)
    py = sum(used(p) for p in workers)
    pg = 0.0
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info.get("cmdline") or [])
        if cmd.startswith("postgres: ") and f" {database} " in f"{cmd} ":
            pg += used(proc)
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
) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    cookies, heavy_count = _sessions(people)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "MEMPORTAL_EMBEDDER_THREADS": "1",
        "DJANGO_SETTINGS_MODULE": settings_module,
    }
    base = Path(__file__).resolve().parent.parent
    server = subprocess.Popen(
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
            str(app_dir or base),
            "--log-level",
            "warning",
        ],
        cwd=app_dir or base,
        env=env,
        start_new_session=True,
    )
    out: dict[str, Any] = {
        "workers": workers,
        "threads": threads,
        "signed_in_people": len(cookies),
        "heaviest_person_memories": heavy_count,
        "levels": [],
    }
    try:
        page = _wait(f"http://127.0.0.1:{port}/you/", cookies[0])
        out["page_bytes_heaviest"] = len(page)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(LUA % ", ".join(f'"{c}"' for c in cookies))
            script = fh.name
        # Warm every worker's connection and the session rows.
        subprocess.run(
            [wrk, "-t1", "-c4", "-d3s", "-s", script, f"http://127.0.0.1:{port}/"], capture_output=True, check=False
        )
        database = urllib.parse.urlparse(database_url).path.lstrip("/")
        for conc in levels:
            cpu0 = _cpu(server.pid, database)
            proc = subprocess.run(
                [
                    wrk,
                    "-t1",
                    f"-c{conc}",
                    f"-d{seconds}s",
                    "--timeout",
                    "10s",
                    "-s",
                    script,
                    f"http://127.0.0.1:{port}/",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            rps = re.search(r"Requests/sec:\s+([\d.]+)", proc.stdout)
            pct = re.search(r"P50=(\d+) P95=(\d+) P99=(\d+) ERR=(\d+)", proc.stdout)
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", proc.stdout)
            row = {"concurrency": conc, "requests_per_s": float(rps.group(1)) if rps else None}
            if pct:
                row.update(
                    p50_ms=int(pct.group(1)) / 1000,
                    p95_ms=int(pct.group(2)) / 1000,
                    p99_ms=int(pct.group(3)) / 1000,
                    errors=int(pct.group(4)),
                )
            row["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
            cpu1 = _cpu(server.pid, database)
            done = re.search(r"(\d+) requests in", proc.stdout)
            if done and int(done.group(1)):
                n = int(done.group(1))
                row["django_cpu_ms_per_request"] = round((cpu1[0] - cpu0[0]) / n * 1000, 2)
                row["postgres_cpu_ms_per_request"] = round((cpu1[1] - cpu0[1]) / n * 1000, 2)
            out["levels"].append(row)
            log(f"  http c={conc}: {row}")
        os.unlink(script)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return out


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
    """``python -m bench.http [--load N] [--workers 4] [--threads 1] [--seconds 10] [--levels 1,4,16,32]``."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.add_argument("--load", type=int, default=0, help="first (re)load the store with this many memories")
    parser.add_argument("--workers", type=int, default=4, help="two sync workers per core (docs/configuration.md)")
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker (1 = sync worker)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--levels", default="1,4,16,32")
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--no-run", action="store_true", help="only load")
    parser.add_argument("--app-dir", help="serve another checkout (e.g. the previous commit) for a side-by-side run")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--settings", default="memportal.settings", help="settings module gunicorn serves with")
    args = parser.parse_args()
    from .db import django_setup

    url = django_setup()
    if args.load:
        load(args.load)
    if args.no_run:
        return 0
    res = run_http(
        database_url=url,
        people=args.people,
        workers=args.workers,
        threads=args.threads,
        levels=tuple(int(x) for x in args.levels.split(",")),
        seconds=args.seconds,
        port=args.port,
        app_dir=args.app_dir,
        settings_module=args.settings,
    )
    res["settings"] = args.settings
    res["app_dir"] = args.app_dir or str(Path(__file__).resolve().parent.parent)
    res["load_average"] = os.getloadavg()
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
