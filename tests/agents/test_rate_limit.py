"""The API's per-key rate limit counts with one atomic upsert: exact under concurrency, and no
request makes PostgreSQL log an error (Django's DatabaseCache ``add`` logged a duplicate key each time).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection, connections

from memportal.agents import ratelimit
from memportal.agents.api.base import _rate_limited
from memportal.agents.models import ApiRateWindow, AppKey
from memportal.agents.services import appkey_create
from tests.factories import tenant

# Thirty seconds into a window, so nothing below straddles a minute boundary.
NOW = 1_900_000_000 // 60 * 60 + 30.0
WINDOW = datetime.fromtimestamp(NOW - 30, tz=UTC)
DUPLICATE_KEY = "duplicate key value violates unique constraint"


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: NOW))


@pytest.fixture
def limited(db) -> tuple[AppKey, str]:
    return appkey_create(tenant=tenant("concierge_app"), name="limited", permissions=("read",))


@pytest.fixture
def key(limited) -> AppKey:
    return limited[0]


def _ping(client, raw: str):
    return client.get("/v1/ping/", headers={"Authorization": f"Token {raw}"})


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_are_counted_exactly(frozen_clock, settings):
    """8 threads x 25 requests, each thread on its own connection: 200 counted, exactly `limit` let through."""
    settings.MEMPORTAL = {**settings.MEMPORTAL, "API_RATE_LIMIT": 120}
    key = appkey_create(tenant=tenant("concierge_app"), name="busy", permissions=("read",))[0]
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    waits: list[int | None] = []
    lock = threading.Lock()

    def hammer() -> None:
        try:
            barrier.wait()
            mine = [_rate_limited(key) for _ in range(per_thread)]
            with lock:
                waits.extend(mine)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(waits) == threads * per_thread
    assert ApiRateWindow.objects.get(key=key).hits == threads * per_thread
    assert waits.count(None) == 120
    assert set(waits) - {None} == {30}  # Retry-After: the rest of the window


def test_a_limit_of_l_lets_exactly_l_requests_through_then_429_with_retry_after(
    client, limited, frozen_clock, settings
):
    settings.MEMPORTAL = {**settings.MEMPORTAL, "API_RATE_LIMIT": 4}
    responses = [_ping(client, limited[1]) for _ in range(7)]
    assert [r.status_code for r in responses] == [200] * 4 + [429] * 3
    assert all(r["Retry-After"] == "30" for r in responses[4:])
    assert responses[-1].json()["detail"] == "Rate limit exceeded for this API key."


def test_a_new_window_starts_from_zero_and_prunes_old_windows(key):
    assert [ratelimit.rate_limit_wait(key_id=key.pk, limit=2, now=NOW) for _ in range(3)] == [None, None, 30]
    assert ratelimit.rate_limit_wait(key_id=key.pk, limit=2, now=NOW + 29.5) == 1  # never 0
    later = NOW + 60
    assert ratelimit.rate_limit_wait(key_id=key.pk, limit=2, now=later) is None
    assert ratelimit.rate_limit_wait(key_id=key.pk, limit=2, now=later + 120) is None
    # The window two minutes back went when the key opened a new one; the previous one stays.
    starts = sorted(ApiRateWindow.objects.filter(key=key).values_list("window_start", flat=True))
    assert starts == [WINDOW + timedelta(seconds=180)]
    ratelimit.rate_limit_wait(key_id=key.pk, limit=2, now=later + 180)
    assert sorted(ApiRateWindow.objects.filter(key=key).values_list("window_start", "hits")) == [
        (WINDOW + timedelta(seconds=180), 1), (WINDOW + timedelta(seconds=240), 1)]


def test_windows_go_with_their_key(key):
    ratelimit.rate_limit_wait(key_id=key.pk, limit=5, now=NOW)
    key.delete()
    assert not ApiRateWindow.objects.exists()


def _embedded_server_log() -> Path | None:
    if not settings.EMBEDDED_DATABASE:
        return None
    log = Path(settings.DATABASES["default"]["HOST"]) / "log"  # pg_ctl -l, see memportal/database.py
    try:
        log.open("rb").close()
    except OSError:
        return None
    return log


def test_fifty_api_requests_log_no_duplicate_key_error(client, concierge_key, settings):
    """No statement fails (checked on the connection) and the server log gains no duplicate-key line."""
    settings.MEMPORTAL = {**settings.MEMPORTAL, "API_RATE_LIMIT": 1000}
    failures: list[BaseException] = []

    def watch(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except Exception as exc:
            failures.append(exc)
            raise

    log = _embedded_server_log()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    start = log.stat().st_size if log else 0
    with connection.execute_wrapper(watch):
        codes = {_ping(client, concierge_key).status_code for _ in range(50)}
    assert codes == {200}
    assert not failures, failures  # DatabaseCache.add swallowed an IntegrityError here
    if log is not None:
        with log.open("rb") as handle:
            handle.seek(start)
            added = handle.read().decode(errors="replace")
        # The server log is shared with other test runs: only this connection's lines count.
        mine = [line for line in added.splitlines() if f"[{pid}]" in line]
        assert not [line for line in mine if DUPLICATE_KEY in line], mine[:5]
