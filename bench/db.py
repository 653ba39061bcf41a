"""The benchmark's own database on the same server, selected before Django starts."""

from __future__ import annotations

import os
from pathlib import Path

BENCH_DATABASE = os.environ.get("MEMPORTAL_BENCH_DATABASE", "memportal_bench")
BASE_DIR = Path(__file__).resolve().parent.parent


def bench_database_url() -> str:
    """``MEMPORTAL_BENCH_DATABASE_URL`` if set, else database ``memportal_bench`` on the embedded server.

    Never the site's own database: the benchmark truncates the memory table between sizes.
    """
    url = os.environ.get("MEMPORTAL_BENCH_DATABASE_URL", "").strip()
    if url:
        return url
    from memportal.database import _ensure_database, embedded_server

    server = embedded_server(BASE_DIR)
    _ensure_database(server.get_uri("postgres"), BENCH_DATABASE)
    return server.get_uri(BENCH_DATABASE)


def django_setup(*, migrate: bool = True) -> str:
    """Point Django at the benchmark database, start it, migrate (unless ``migrate`` is False: a
    shared, already loaded database another branch may own). Returns the URL."""
    url = bench_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memportal.settings")
    os.environ.setdefault("MEM0_TELEMETRY", "False")
    import django
    from django.core.management import call_command

    django.setup()
    if migrate:
        call_command("migrate", verbosity=0, interactive=False)
    return url
