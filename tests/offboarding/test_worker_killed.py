"""The queue survives a dead worker: real ``manage.py procrastinate worker`` processes on the
test database. One is SIGKILLed mid-offboarding (or mid-export); a second, started afterwards,
recovers the stalled job on its own (the ``queue.retry_stalled`` periodic task, procrastinate's
heartbeats) and ends in the same state as an uninterrupted run: counts add up, verification 0,
one receipt, one complete export file published once, one webhook delivery delivered (at least
once: the same delivery id again)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from memportal.memory.models import ErasureReceipt
from memportal.memory.tenant_selectors import AuditFilter
from memportal.offboarding import services
from memportal.staff import services as staff_services
from memportal.staff.models import AccessRecord, ExportJob
from tests.staff.bulk import bulk_memories, table_count

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    db = connection.settings_dict
    host = quote(db["HOST"], safe="") if db["HOST"].startswith("/") else db["HOST"]
    port = f":{db['PORT']}" if db.get("PORT") else ""
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}{port}/{db['NAME']}"


def _queue_sql(sql: str) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def workers(export_dir, tmp_path) -> Iterator[Callable[[str], subprocess.Popen]]:
    """Start real worker processes on the test database; every one is killed at the end."""
    _queue_sql("DELETE FROM procrastinate_jobs")
    _queue_sql("DELETE FROM procrastinate_periodic_defers")
    started: list[subprocess.Popen] = []
    env = {
        **os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "memportal.settings",
        "MEMPORTAL_EXPORT_DIR": str(export_dir), "MEMPORTAL_EXPORT_BATCH_SIZE": "50",
        "MEMPORTAL_JOB_THROTTLE_SECONDS": "0.1",
        # quick heartbeats, so that a dead worker is noticed within seconds
        "MEMPORTAL_WORKER_HEARTBEAT_SECONDS": "1", "MEMPORTAL_WORKER_STALLED_SECONDS": "4",
        # a held webhook request outlives the kill instead of timing out first
        "MEMPORTAL_WEBHOOK_TIMEOUT_SECONDS": "120", "MEMPORTAL_WEBHOOK_BACKOFF_BASE": "1",
    }

    def start(name: str, alias: bool = False) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        command = ["offboarding_worker"] if alias else ["procrastinate", "worker"]
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *command, "--name", name, "--concurrency", "2"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        proc.log_path = tmp_path / f"worker-{name}.log"  # type: ignore[attr-defined]
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        _queue_sql("DELETE FROM procrastinate_jobs")


def _wait(what: str, done: Callable[[], bool], proc: subprocess.Popen, seconds: float = 240) -> None:
    """Generous: on a loaded machine a worker process alone can take many seconds to start."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return
        assert proc.poll() is None, proc.log_path.read_text()[-3000:]
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {proc.log_path.read_text()[-3000:]}")


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def _queue_states(task: str) -> list[str]:
    return [r[0] for r in _queue_sql(f"SELECT status FROM procrastinate_jobs WHERE task_name = '{task}'")]


def test_a_worker_killed_mid_offboarding_is_recovered_by_another_to_the_same_end_state(owner, stranger, workers):
    bulk_memories(member=owner.member, count=3000, with_history=True)
    bulk_memories(member=stranger.member, count=50)
    job = services.offboarding_start(tenant=owner.member.tenant, batch_size=100)
    assert _queue_states("offboarding.run") == ["todo"]  # deferred once its row was committed
    assert services.offboarding_start(tenant=owner.member.tenant) == job  # a double click
    assert _queue_states("offboarding.run") == ["todo"]  # the queueing lock: still one task waiting

    first = workers("first")

    def half_way() -> bool:
        job.refresh_from_db()
        return job.memories_erased >= 500

    _wait("the first worker to erase 500 memories", half_way, first)
    _kill(first)
    job.refresh_from_db()
    assert job.state == "running" and 0 < job.memories_erased < 3000 and job.attempts == 1, job.memories_erased
    assert table_count("payload->>'app_id' = 'concierge_app'") == 3000 - job.memories_erased  # committed only
    assert _queue_states("offboarding.run") == ["doing"]  # the dead worker's job, stuck until recovered

    second = workers("second")

    def finished() -> bool:
        job.refresh_from_db()
        return not job.active

    _wait("the second worker to recover and finish the job", finished, second)
    assert job.state == "done" and job.attempts == 2 and job.worker.endswith(f":{second.pid}")
    assert job.memories_before == job.memories_erased == 3000 and job.memories_after == 0
    assert job.history_rows_erased == 3000
    assert job.verification["total"] == 0 and set(job.verification["checks"].values()) == {0}
    receipts = ErasureReceipt.objects.filter(kind=ErasureReceipt.Kind.TENANT)
    assert receipts.count() == 1 and receipts.get() == job.erasure_receipt
    assert job.erasure_receipt.memories_erased == 3000 and job.erasure_receipt.remaining_after == 0
    assert table_count("payload->>'app_id' = 'concierge_app'") == 0
    assert table_count("payload->>'app_id' = 'sports_brand_portal'") == 50
    _wait("the queue to drop the finished job", lambda: _queue_states("offboarding.run") == [], second, 30)


def test_a_worker_killed_mid_export_is_recovered_by_another_and_the_file_is_published_once(
        owner, staff, workers, export_dir):
    bulk_memories(member=owner.member, count=1500)
    job = staff_services.export_job_create(tenant=owner.member.tenant, actor=staff.user, flt=AuditFilter(),
                                           fmt="jsonl")
    assert _queue_states("staff.export") == ["todo"]

    first = workers("first")

    def half_way() -> bool:
        job.refresh_from_db()
        return job.written >= 300

    _wait("the first worker to write 300 rows", half_way, first)
    _kill(first)
    job.refresh_from_db()
    assert job.state == "running" and 0 < job.written < 1500
    assert not (export_dir / job.file_name).exists()  # only the temporary file: nothing published
    assert _queue_states("staff.export") == ["doing"]

    second = workers("second", alias=True)  # the old command name runs the same worker

    def finished() -> bool:
        job.refresh_from_db()
        return not job.active

    _wait("the second worker to recover and finish the export", finished, second)
    assert job.state == "done" and job.total == job.written == 1500
    assert sorted(p.name for p in export_dir.iterdir()) == [job.file_name]  # no stray .part
    ids = [json.loads(line)["id"] for line in (export_dir / job.file_name).read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 1500  # complete, every row once
    assert AccessRecord.objects.filter(action="export").count() == 1  # logged once, at the request
    assert ExportJob.objects.count() == 1
    _wait("the queue to drop the finished job", lambda: _queue_states("staff.export") == [], second, 30)


def test_a_worker_killed_mid_tenant_delete_is_recovered_without_a_duplicate_receipt(client, workers):
    from memportal.agents.models import TenantDeleteJob
    from memportal.agents.services import appkey_create
    from memportal.memory.tenancy import membership_for_external
    from tests.factories import tenant

    concierge = tenant("concierge_app")
    for n in range(40):
        member = membership_for_external(tenant=concierge, external_id=f"guest-{n}", create=True)
        bulk_memories(member=member, count=3, agent_id="travel_planner")
        bulk_memories(member=member, count=1, agent_id="chef")
    _, raw = appkey_create(tenant=concierge, name="kill test")
    response = client.delete("/v1/memories/?agent_id=travel_planner", headers={"Authorization": f"Token {raw}"})
    assert response.status_code == 202
    job = TenantDeleteJob.objects.get(pk=response.json()["job_id"])

    first = workers("first")

    def some_done() -> bool:
        job.refresh_from_db()
        return job.people_done >= 5

    _wait("the first worker to erase 5 people", some_done, first)
    _kill(first)
    job.refresh_from_db()
    assert job.state == "running" and 5 <= job.people_done < 40
    assert job.receipts.count() == job.people_done

    second = workers("second")

    def finished() -> bool:
        job.refresh_from_db()
        return not job.active

    _wait("the second worker to recover and finish the delete", finished, second)
    assert job.state == "done" and job.attempts == 2
    assert job.people_total == job.people_done == 40 and job.memories_erased == 120
    assert job.verification["people_left"] == 0
    receipts = ErasureReceipt.objects.filter(kind=ErasureReceipt.Kind.AGENT)
    assert receipts.count() == job.receipts.count() == 40  # one per person, none twice
    assert len({r.membership_id for r in receipts}) == 40
    assert table_count("payload->>'agent_id' = 'travel_planner'") == 0
    assert table_count("payload->>'agent_id' = 'chef'") == 40


def test_a_worker_killed_mid_webhook_delivery_is_recovered_by_another_and_the_event_delivered(client, workers):
    """Delivery is at least once: the killed worker's request reached the receiver but its answer was
    never recorded, so the second worker sends again with the same delivery id (receivers dedupe)."""
    import threading

    from memportal.agents.models import WebhookDelivery
    from memportal.agents.services import appkey_create
    from tests.agents.receiver import Receiver
    from tests.factories import tenant

    _, raw = appkey_create(tenant=tenant("concierge_app"), name="kill test")
    auth = {"Authorization": f"Token {raw}"}
    receiver = Receiver(hold=threading.Event()).start()
    try:
        made = client.post("/api/v1/webhooks/projects/concierge_app/", {
            "name": "crm", "url": receiver.url, "event_types": ["memory_add"]}, content_type="application/json",
            headers=auth)
        assert made.status_code == 201
        added = client.post("/v3/memories/add/", {"messages": [{"role": "user", "content": "Dana likes tea"}],
                                                  "user_id": "dana", "infer": False},
                            content_type="application/json", headers=auth)
        assert added.status_code == 200
        assert _queue_states("agents.webhook_deliver") == ["todo"]
        delivery = WebhookDelivery.objects.get()

        first = workers("first")
        _wait("the first worker's request to reach the (holding) receiver", lambda: len(receiver.received) >= 1,
              first)
        _kill(first)
        delivery.refresh_from_db()
        assert delivery.state == "pending" and delivery.attempts == 1
        assert delivery.attempt_rows.get().finished_at is None  # the answer was never recorded
        assert _queue_states("agents.webhook_deliver") == ["doing"]
        receiver.hold.set()  # let the dead worker's request go

        second = workers("second")

        def delivered() -> bool:
            delivery.refresh_from_db()
            return delivery.state != "pending"

        _wait("the second worker to recover and deliver", delivered, second)
    finally:
        receiver.stop()
    assert delivery.state == "delivered" and delivery.attempts == 2
    first_try, second_try = delivery.attempt_rows.all()
    assert first_try.status_code is None and first_try.error.startswith("Interrupted")
    assert first_try.worker.endswith(f":{first.pid}")
    assert second_try.status_code == 200 and second_try.worker.endswith(f":{second.pid}")
    assert len(receiver.received) == 2  # at least once ...
    assert {r.headers["X-Memportal-Delivery"] for r in receiver.received} == {str(delivery.pk)}  # ... one id
    assert WebhookDelivery.objects.count() == 1
    _wait("the queue to drop the finished job", lambda: _queue_states("agents.webhook_deliver") == [], second, 30)


def test_the_periodic_recovery_retries_only_the_jobs_of_dead_workers(owner):
    """``stalled_jobs_retry`` (the body of the periodic task) on the queue's own tables."""
    from memportal.queue import stalled_jobs_retry

    _queue_sql("DELETE FROM procrastinate_jobs")
    _queue_sql("DELETE FROM procrastinate_workers")
    dead, alive = (_queue_sql(
        "INSERT INTO procrastinate_workers (last_heartbeat) VALUES "
        f"(now() - interval '{age} seconds') RETURNING id")[0][0] for age in (600, 0))
    for worker_id in (dead, alive):
        _queue_sql("INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, worker_id) VALUES "
                   f"('exports', 'staff.export', '{{}}', 'doing', {worker_id})")
    assert len(stalled_jobs_retry()) == 1
    rows = _queue_sql("SELECT status, worker_id FROM procrastinate_jobs ORDER BY id")
    assert [r[0] for r in rows] == ["todo", "doing"]
    _queue_sql("DELETE FROM procrastinate_jobs")
    _queue_sql("DELETE FROM procrastinate_workers")
