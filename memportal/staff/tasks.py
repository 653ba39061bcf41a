"""Staff's procrastinate tasks: background exports and the sweep of expired export files."""

from __future__ import annotations

from datetime import UTC, datetime

from memportal.queue import app, throttle_seconds, worker_connection

from . import services
from .models import ExportJob


def export_job_run(*, job_id: str) -> None:
    """The task's body (tests call it directly): write the file, or again from the start after a kill."""
    job = ExportJob.objects.select_related("tenant").filter(pk=job_id).first()
    if job is None:
        return
    job = services.export_job_start(job=job)
    if job is not None:
        services.export_job_process(job=job, pause_seconds=throttle_seconds())


@app.task(name="staff.export", queue="exports")
def export_task(job_id: str) -> None:
    with worker_connection():
        export_job_run(job_id=job_id)


@app.periodic(cron="*/10 * * * *", periodic_id="expired-exports")
@app.task(name="staff.export_sweep", queue="maintenance", queueing_lock="staff.export_sweep")
def export_sweep_task(timestamp: int) -> None:
    """Every 10 minutes: delete export files past their expiry (their rows say "expired")."""
    with worker_connection():
        services.export_files_erase(expired_only=True)


@app.periodic(cron="0 3 * * *", periodic_id="nightly-audit")
@app.task(name="staff.nightly_audit", queue="maintenance", queueing_lock="staff.nightly_audit")
def nightly_audit_task(timestamp: int) -> None:
    """03:00 UTC: one stored audit report per live tenant (a retried run skips tenants done)."""
    from .audit import nightly_audit_run

    with worker_connection():
        nightly_audit_run(scheduled_for=datetime.fromtimestamp(timestamp, tz=UTC))
