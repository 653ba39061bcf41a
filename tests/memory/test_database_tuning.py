"""The embedded server runs with memportal.conf: search stays fast on a cold or large store."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from memportal.database import server_tuning

GB = 1024**3


def test_shared_buffers_are_a_quarter_of_memory_within_bounds():
    assert server_tuning(ram_bytes=2 * GB)["shared_buffers"] == "512MB"
    assert server_tuning(ram_bytes=256 * 1024**2)["shared_buffers"] == "128MB"  # never below the default
    assert server_tuning(ram_bytes=64 * GB)["shared_buffers"] == "4096MB"


def test_shared_buffers_can_be_set_by_the_operator(monkeypatch):
    monkeypatch.setenv("MEMPORTAL_PG_SHARED_BUFFERS", "1GB")
    assert server_tuning(ram_bytes=64 * GB)["shared_buffers"] == "1GB"


@pytest.mark.django_db
@pytest.mark.skipif(not settings.EMBEDDED_DATABASE, reason="DATABASE_URL: the operator tunes that server")
def test_the_embedded_server_runs_with_the_tuned_settings():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('shared_preload_libraries')")
        jit, preload = cursor.fetchone()
    assert jit == "off"
    assert "pg_prewarm" in preload
