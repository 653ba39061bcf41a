"""Offboarding's procrastinate task: run (or resume) one job row to its verified receipt."""

from __future__ import annotations

import logging

from procrastinate import RetryStrategy

from memportal.queue import app, throttle_seconds, worker_connection

from .models import OffboardingJob

log = logging.getLogger(__name__)


class TenantBusy(Exception):
    """Another process (``offboard_app``) is running this tenant's offboarding: try again later."""


def offboarding_job_run(*, job_id: str) -> None:
    """The task's body (tests call it directly): resume the row where its committed batches left it."""
    from . import services

    job = OffboardingJob.objects.select_related("tenant").filter(pk=job_id).first()
    if job is None or not job.active:
        return
    log.warning("offboarding %s: running job %s", job.tenant.slug, job.pk)
    job = services.offboarding_execute(job=job, pause_seconds=throttle_seconds())
    if job.active:
        raise TenantBusy()


@app.task(name="offboarding.run", queue="offboarding",
          retry=RetryStrategy(max_attempts=100, wait=30, retry_exceptions={TenantBusy}))
def offboarding_task(job_id: str) -> None:
    with worker_connection():
        offboarding_job_run(job_id=job_id)
