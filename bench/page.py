"""CPU per request of the "your data" page in-process: the whole Django stack, no HTTP server.

``python -m bench.page`` signs in the same people as ``bench.http`` (heaviest first), calls the
WSGI application directly for ``--requests`` requests rotating their session cookies, and reports
CPU milliseconds per request of this process (Python + the database driver's client side),
wall milliseconds, queries per request, and with ``--profile`` the top functions (cProfile,
cumulative). Unlike requests/s under ``wrk``, CPU time per request barely moves when other
processes share the cores, so it is the measure to compare two versions of the code with.
``--app-dir DIR`` runs the same measurement against another checkout (in a subprocess).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _environ(cookie: str, path: str = "/you/") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8765",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8765",
        "HTTP_COOKIE": f"sessionid={cookie}",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def measure(*, people: int = 50, requests: int = 2000, profile: bool = False, top: int = 40) -> dict[str, Any]:
    """Run ``requests`` GET /you/ through the WSGI handler; CPU and wall ms per request."""
    from django.core.wsgi import get_wsgi_application
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from bench.http import _sessions

    cookies, heavy = _sessions(people)
    app = get_wsgi_application()

    def one(i: int) -> int:
        status: list[str] = []
        body = b"".join(app(_environ(cookies[i % len(cookies)]), lambda s, h, *a: status.append(s)))
        if not status[0].startswith("200"):
            raise RuntimeError(f"/you/ answered {status[0]}")
        return len(body)

    for i in range(max(200, len(cookies) * 2)):  # warm: every person's rows, connection, templates
        one(i)
    with CaptureQueriesContext(connection) as ctx:
        for i in range(len(cookies)):
            one(i)
    queries = len(ctx.captured_queries) / len(cookies)
    reset_queries()
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile(time.process_time)  # CPU, not wall: waits and other processes do not count
        prof.enable()
    c0, w0 = time.process_time(), time.perf_counter()
    size = 0
    for i in range(requests):
        size = max(size, one(i))
    c1, w1 = time.process_time(), time.perf_counter()
    out: dict[str, Any] = {
        "requests": requests,
        "signed_in_people": len(cookies),
        "heaviest_person_memories": heavy,
        "cpu_ms_per_request": round((c1 - c0) / requests * 1000, 3),
        "wall_ms_per_request": round((w1 - w0) / requests * 1000, 3),
        "queries_per_request": queries,
        "largest_page_bytes": size,
    }
    if prof is not None:
        import pstats

        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(top)
        out["profile"] = buf.getvalue()
    return out


def main() -> int:
    """``python -m bench.page [--requests 2000] [--profile] [--app-dir DIR]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.page", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--app-dir", help="measure another checkout instead (runs its code in a subprocess)")
    parser.add_argument("--json", action="store_true", help="print only the result as JSON")
    args = parser.parse_args()
    if args.app_dir:
        # The other checkout's code, this checkout's harness: PYTHONPATH puts this file's package
        # after the other tree, so ``memportal`` resolves there and ``bench.page`` here.
        here = Path(__file__).resolve().parent.parent
        app_dir = str(Path(args.app_dir).resolve())
        argv = ["bench.page", "--requests", str(args.requests), "--people", str(args.people), "--top", str(args.top),
                "--json", *(["--profile"] if args.profile else [])]
        code = (f"import runpy, sys; sys.path.insert(0, {app_dir!r}); "
                f"sys.argv = {argv!r}; "
                f"runpy.run_path({str(here / 'bench' / 'page.py')!r}, run_name='__main__')")
        return subprocess.run([sys.executable, "-c", code], cwd=app_dir, check=False).returncode
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("MEMPORTAL_EMBEDDER_THREADS", "1")
    from bench.db import django_setup

    django_setup()
    res = measure(people=args.people, requests=args.requests, profile=args.profile, top=args.top)
    prof = res.pop("profile", None)
    print(json.dumps(res) if args.json else json.dumps(res, indent=2))
    if prof:
        print(prof)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
