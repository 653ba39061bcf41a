"""The API's procrastinate task: tenant-wide deletes, one person (and receipt) at a time."""

from __future__ import annotations

from procrastinate import RetryStrategy

from memportal.queue import app, throttle_seconds, worker_connection

from .models import TenantDeleteJob


class JobBusy(Exception):
    """Another process is running this job: try again later."""


def tenant_delete_run(*, job_id: str) -> None:
    """The task's body (tests call it directly): run or resume the job."""
    from . import services

    job = TenantDeleteJob.objects.select_related("tenant").filter(pk=job_id).first()
    if job is None or not job.active:
        return
    job = services.tenant_delete_execute(job=job, pause_seconds=throttle_seconds())
    if job.active:
        raise JobBusy()


@app.task(name="agents.tenant_delete", queue="erasure",
          retry=RetryStrategy(max_attempts=100, wait=30, retry_exceptions={JobBusy}))
def tenant_delete_task(job_id: str) -> None:
    with worker_connection():
        tenant_delete_run(job_id=job_id)
