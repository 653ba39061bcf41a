"""The staff audit page (/staff/<app_id>/) on a generated store: p50/p95 per filter, queries, bytes.

``python -m bench.audit --nightly`` times the nightly audit task's reports instead (every live
tenant; ``--no-migrate`` against a shared, already loaded database).

``python -m bench.audit --load 100000`` (re)fills the benchmark database with the same workload as
``bench.run`` (size/10 people over four tenants, 50/30/10/10% of the memories), then audits the
largest tenant, ``bench_t0``, as one of its staff. Without ``--load`` it measures whatever the
benchmark database holds. Writes ``bench/results/audit-<size>.json``.

Requests go through Django's test client in this process (no HTTP server, one at a time): the
numbers are the page's own cost — its SQL and its rendering — on this machine, not throughput.
Each scenario runs ``--requests`` times after two warm-up requests; every audit request writes an
access record, as in production.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from .run import log

RESULTS = Path(__file__).resolve().parent / "results"


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def _scenarios(tenant) -> list[tuple[str, str, dict[str, Any]]]:
    from memportal.memory import tenant_selectors
    from memportal.memory.models import Membership

    heavy = tenant_selectors.tenant_scope_top(tenant=tenant, key="user_id", limit=1)[0].value
    heavy_member = Membership.objects.get(subject_id=heavy)
    agent = tenant_selectors.scope_suggestions(tenant=tenant, key="agent_id", prefix="", limit=1)[0]
    session = tenant_selectors.scope_suggestions(tenant=tenant, key="run_id", prefix=heavy_member.external_id,
                                                limit=1)[0]
    base = f"/staff/{tenant.slug}/"
    # A deep page that exists (past the last page the audit redirects to it): page 200 at 1M.
    deep = min(200, max(1, -(-tenant_selectors.tenant_memory_count(tenant=tenant) // 50)))
    return [
        ("page 1, whole tenant", base, {}),
        (f"page {deep}, whole tenant", base, {"page": deep}),
        ("one person (by external id)", base, {"person": heavy_member.external_id}),
        ("one agent", base, {"agent": agent}),
        ("one session", base, {"session": session}),
        ("text search, whole tenant", base, {"q": "allergic", "mode": "text"}),
        ("person lookup 'p00'", f"{base}lookup/person/", {"person": "p00"}),
        ("session lookup 'p000'", f"{base}lookup/session/", {"session": "p000"}),
        ("agent lookup ''", f"{base}lookup/agent/", {"agent": ""}),
    ]


def run_audit(*, requests: int = 20, tenant_slug: str = "bench_t0") -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from memportal.memory.models import Membership, Tenant
    from memportal.memory.tenant_selectors import tenant_memory_count

    tenant = Tenant.objects.get(slug=tenant_slug)
    user, _ = get_user_model().objects.get_or_create(
        username="bench-audit-staff", defaults={"email": "bench-audit-staff@example.com"}
    )
    if not Membership.objects.filter(tenant=tenant, user=user, ended_at__isnull=True).exists():
        Membership.objects.create(tenant=tenant, user=user, role=Membership.Role.STAFF)
    client = Client(SERVER_NAME="localhost")  # an allowed local host whatever DEBUG is
    client.force_login(user)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM memportal_memories")
        store = cur.fetchone()[0]
    out: dict[str, Any] = {
        "store_memories": store,
        "store_people": Membership.objects.count(),
        "tenant": tenant_slug,
        "tenant_memories": tenant_memory_count(tenant=tenant),
        "tenant_people": Membership.objects.filter(tenant=tenant).count(),
        "requests_per_scenario": requests,
        "scenarios": [],
    }
    for name, path, params in _scenarios(tenant):
        for _ in range(2):
            client.get(path, params)
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(path, params)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: {path} {params} answered {response.status_code}")
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            client.get(path, params)
            times.append((time.perf_counter() - start) * 1000)
        row = {
            "scenario": name, "params": params,
            "p50_ms": round(statistics.median(times), 1), "p95_ms": round(_percentile(times, 95), 1),
            "max_ms": round(max(times), 1), "queries": len(queries), "bytes": len(response.content),
        }
        out["scenarios"].append(row)
        log(f"  {name}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, {row['queries']} queries, "
            f"{row['bytes']:,} bytes")
    return out


def run_nightly(*, repeat: int = 1) -> dict[str, Any]:
    """The nightly audit task's work (``staff.audit.nightly_audit_run``) on the store as it is: the
    report of every live tenant, timed per tenant, ``repeat`` times. Builds each report exactly as
    the task does (``audit_report(labels=False)``) but does not store it, so a shared benchmark
    database is left as it was (the task adds one INSERT per tenant)."""
    from django.db import connection

    from memportal.memory.models import Membership, Tenant
    from memportal.staff.audit import audit_report

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM memportal_memories")
        store = cur.fetchone()[0]
    out: dict[str, Any] = {"store_memories": store, "store_people": Membership.objects.count(), "runs": []}
    for _ in range(repeat):
        run: dict[str, Any] = {"tenants": []}
        t0 = time.perf_counter()
        for tenant in Tenant.objects.filter(offboarded_at__isnull=True).order_by("pk"):
            start = time.perf_counter()
            report = audit_report(tenant, labels=False)
            seconds = time.perf_counter() - start
            run["tenants"].append({"tenant": tenant.slug, "seconds": round(seconds, 2),
                                   "memories": report["memories"], "people": report["people"],
                                   "sessions": len(report["per_session"]),
                                   "report_bytes": len(json.dumps(report))})
            log(f"  nightly audit {tenant.slug}: {seconds:.2f} s, {report['memories']:,} memories, "
                f"{report['people']:,} people")
        run["total_seconds"] = round(time.perf_counter() - t0, 2)
        log(f"  nightly audit, all tenants: {run['total_seconds']} s")
        out["runs"].append(run)
    return out


def clear_bench_access_log() -> None:
    """The benchmark's own access records (append-only in the product, PROTECT on the tenant) would
    stop ``bench.run.reset_store`` from dropping the bench tenants: delete them in SQL, bench only."""
    from django.db import connection

    from memportal.memory.models import Tenant
    from memportal.staff.models import AccessRecord

    ids = list(Tenant.objects.filter(slug__startswith="bench_").values_list("pk", flat=True))
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {AccessRecord._meta.db_table} WHERE tenant_id = ANY(%s)", [ids])


def main() -> int:
    """``python -m bench.audit [--load N] [--requests 20]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument("--load", type=int, default=0, help="first (re)load the store with this many memories")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per scenario")
    parser.add_argument("--tenant", default="bench_t0")
    parser.add_argument("--no-run", action="store_true", help="only load")
    parser.add_argument("--nightly", action="store_true",
                        help="time the nightly audit task's reports (every live tenant) instead of the page")
    parser.add_argument("--repeat", type=int, default=2, help="--nightly: runs (the first reads cold pages)")
    parser.add_argument("--no-migrate", action="store_true", help="use the database as it is (a shared one)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_DEBUG", "0")
    from .db import django_setup

    django_setup(migrate=not args.no_migrate)
    if args.nightly:
        res = run_nightly(repeat=args.repeat)
        res["load_average"] = os.getloadavg()
        res["machine"] = __import__("bench.report", fromlist=["machine"]).machine()
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"nightly-audit-{res['store_memories']}.json"
        path.write_text(json.dumps(res, indent=2) + "\n")
        for i, run in enumerate(res["runs"], 1):
            print(f"run {i}: " + ", ".join(f"{t['tenant']} {t['seconds']} s ({t['memories']:,} memories)"
                                            for t in run["tenants"]) + f"; all tenants {run['total_seconds']} s")
        log(f"wrote {path}")
        return 0
    if args.load:
        from .http import load

        clear_bench_access_log()
        load(args.load)
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE memportal_memories")
    if args.no_run:
        return 0
    res = run_audit(requests=args.requests, tenant_slug=args.tenant)
    res["load_average"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"audit-{res['store_memories']}.json"
    path.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
