"""A real worker process is SIGKILLed mid-offboarding; a second worker finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from memportal.offboarding import services
from memportal.offboarding.models import OffboardingJob
from memportal.offboarding.worker import worker_run_once
from tests.staff.bulk import bulk_memories, table_count

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    host = quote(db["HOST"], safe="") if db["HOST"].startswith("/") else db["HOST"]
    port = f":{db['PORT']}" if db.get("PORT") else ""
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}{port}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_half_way_and_starting_another_finishes_with_zero(owner, stranger):
    try:
        bulk_memories(member=owner.member, count=3000, with_history=True)
        bulk_memories(member=stranger.member, count=50)
        job = services.offboarding_start(tenant=owner.member.tenant, batch_size=100)
        env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "memportal.settings"}
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "offboarding_worker", "--poll", "0.1", "--throttle", "0.1"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            # Generous: on a loaded CI machine the worker process alone can take many seconds to start.
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                job.refresh_from_db()
                if job.memories_erased >= 500:
                    break
                assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
                time.sleep(0.05)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
        job.refresh_from_db()
        assert job.state == "running" and 0 < job.memories_erased < 3000, job.memories_erased
        left = table_count("payload->>'app_id' = 'concierge_app'")
        assert 0 < left == 3000 - job.memories_erased  # committed batches only, nothing half-done

        # The dead worker's heartbeat goes stale; a new worker reclaims and finishes.
        OffboardingJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=2))
        assert worker_run_once(worker="second") is True
        job.refresh_from_db()
        assert job.state == "done" and job.attempts == 2
        assert job.memories_before == job.memories_erased == 3000 and job.memories_after == 0
        assert job.verification["total"] == 0 and job.erasure_receipt.remaining_after == 0
        assert table_count("payload->>'app_id' = 'concierge_app'") == 0
        assert table_count("payload->>'app_id' = 'sports_brand_portal'") == 50
    finally:
        # memportal_memories is not a Django model: a transactional test's flush does not empty it.
        with connection.cursor() as cur:
            cur.execute("DELETE FROM memportal_memories")
