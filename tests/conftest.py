"""Shared fixtures. Tests run on the real PostgreSQL + pgvector (embedded unless DATABASE_URL).

The three people of every isolation test: ``owner`` (alice), ``colleague`` (bob, same tenant)
and ``stranger`` (jane, another tenant).

The whole suite runs with outbound network connections refused: only loopback and Unix
sockets are allowed (the database, the live test server, Chromium's DevTools pipe).
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from tests.factories import Person, person

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class OutboundConnectionBlocked(OSError):
    pass


def _is_local(address) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if not _is_local(address):
        raise OutboundConnectionBlocked(f"test suite tried to connect to {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_local(address):
        raise OutboundConnectionBlocked(f"test suite tried to connect to {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def no_outbound_network():
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex


@pytest.fixture
def owner(db) -> Person:
    return person("alice", "concierge_app")


@pytest.fixture
def colleague(db) -> Person:
    return person("bob", "concierge_app")


@pytest.fixture
def stranger(db) -> Person:
    return person("jane", "sports_brand_portal")


@pytest.fixture
def staff(db) -> Person:
    return person("concierge_staff", "concierge_app", role="staff")


@pytest.fixture
def sports_staff(db) -> Person:
    return person("sports_staff", "sports_brand_portal", role="staff")


@pytest.fixture
def admin_person(db) -> Person:
    return person("root", "concierge_app", superuser=True)


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    """Export files go to a per-test folder, never the developer's .data/exports."""
    settings.MEMPORTAL = {**settings.MEMPORTAL, "EXPORT_DIR": str(tmp_path / "exports")}
    return tmp_path / "exports"


@pytest.fixture(autouse=True)
def empty_memory_tables_after_transactional_tests(request):
    """mem0's tables are not Django models, so the flush after a transactional test (live_server,
    worker threads and processes) leaves their rows behind for the next test. Empty them here."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        from django.db import connection

        from memportal.memory.records import ENTITY_TABLE, TABLE

        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")
            cursor.execute("SELECT to_regclass(%s)", [ENTITY_TABLE])  # mem0 creates it on first use
            if cursor.fetchone()[0]:
                cursor.execute(f"DELETE FROM {ENTITY_TABLE}")
            # Jobs deferred on commit by the test: no later test's worker process may run them.
            cursor.execute("DELETE FROM procrastinate_jobs")
