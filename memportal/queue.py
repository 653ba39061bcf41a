"""The background queue: procrastinate on memportal's own PostgreSQL.

Every piece of background work (offboarding, staff exports, expired-export sweeps, tenant-wide
API deletes, the nightly audit) is a procrastinate task in ``memportal/<app>/tasks.py``. The job
rows people see (``OffboardingJob``, ``ExportJob``, ``TenantDeleteJob``, ``TenantAuditReport``)
stay the record of progress and receipts; the procrastinate job only says "run this row".

Workers: ``python manage.py procrastinate worker`` (any number, on any number of hosts, all on
the same ``DATABASE_URL``). Each heartbeats; ``retry_stalled`` (below, every 15 seconds,
deferred once per tick across all workers) puts the jobs of a worker that stopped heartbeating
(SIGKILL, lost host) back to "todo" with procrastinate's own ``get_stalled_jobs`` /
``retry_job``, and another worker resumes them: every task is resumable and idempotent.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from procrastinate import jobs, sql, utils
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

log = logging.getLogger(__name__)

__all__ = ["app", "defer_on_commit", "retry_stalled", "stalled_jobs_retry", "worker_connection"]


def defer_on_commit(task: Any, *, lock: str | None = None, queueing_lock: str | None = None, **kwargs: Any) -> None:
    """Defer ``task(**kwargs)`` once the current transaction commits (at once outside one), so a
    worker never picks up a job whose row it cannot see yet. A ``queueing_lock`` already taken
    means the same work is already waiting: nothing more to do."""

    def defer() -> None:
        options = {k: v for k, v in (("lock", lock), ("queueing_lock", queueing_lock)) if v is not None}
        with contextlib.suppress(AlreadyEnqueued):
            task.configure(**options).defer(**kwargs)

    transaction.on_commit(defer)


@contextlib.contextmanager
def worker_connection() -> Iterator[None]:
    """Sync tasks run in worker threads: start from a usable Django connection, and close it
    after (the thread may be reused; a connection must not outlive its task)."""
    close_old_connections()
    try:
        yield
    finally:
        connection.close()


@contextlib.contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """A session-level PostgreSQL advisory lock on ``name``: True if this connection got it.

    The queue's ``lock`` already keeps two workers off the same tenant's job; this also keeps a
    command running a job in its own process (``offboard_app``) off a job a worker is running.
    A killed process's connection ends, and with it the lock.
    """
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [name])
        got = bool(cur.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [name])


def throttle_seconds() -> float:
    """Pause between a background job's batches (MEMPORTAL_JOB_THROTTLE_SECONDS, default 0)."""
    return float(settings.MEMPORTAL.get("JOB_THROTTLE_SECONDS", 0))


async def stalled_jobs_retry_async() -> list[int]:
    """Put every job of a dead worker (no heartbeat for WORKER_STALLED_SECONDS) back in the
    queue with procrastinate's own API. Returns their procrastinate ids."""
    manager = app.job_manager
    retried = []
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=settings.WORKER_STALLED_SECONDS):
        if job.task_name == retry_stalled.name:
            continue  # a lost tick is simply replaced by the next one
        log.warning("queue: retrying stalled job %s (%s)", job.id, job.task_name)
        await manager.retry_job(job)
        retried.append(job.id)
    return retried


def stalled_jobs_retry() -> list[int]:
    """The same, from synchronous code (a command, a test), on procrastinate's synchronous
    connector (and its own queries): usable whether or not an event loop runs in this thread."""
    manager = app.job_manager
    rows = app.connector.get_sync_connector().execute_query_all(
        query=sql.queries["select_stalled_jobs_by_heartbeat"], queue=None, task_name=None,
        seconds_since_heartbeat=settings.WORKER_STALLED_SECONDS,
    )
    retried = []
    for job in (jobs.Job.from_row(row) for row in rows):
        if job.task_name == retry_stalled.name or job.id is None:
            continue
        log.warning("queue: retrying stalled job %s (%s)", job.id, job.task_name)
        manager.retry_job_by_id(job.id, retry_at=utils.utcnow())
        retried.append(job.id)
    return retried


@app.periodic(cron="* * * * * */15", periodic_id="retry-stalled")
@app.task(name="queue.retry_stalled", queue="maintenance", queueing_lock="queue.retry_stalled")
async def retry_stalled(timestamp: int) -> None:
    await stalled_jobs_retry_async()
