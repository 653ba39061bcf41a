"""The API's procrastinate tasks: tenant-wide deletes (one person and receipt at a time) and
webhook deliveries (``webhooks.py``)."""

from __future__ import annotations

import os
import socket
from typing import Any

from django.conf import settings
from procrastinate import RetryStrategy
from procrastinate.retry import RetryDecision

from memportal.queue import app, throttle_seconds, worker_connection

from .models import TenantDeleteJob
from .webhooks import DeliveryFailed, webhook_deliver


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


class WebhookRetry(RetryStrategy):
    """procrastinate's RetryStrategy with exponential backoff read from settings when a delivery
    fails (so an operator's or a test's setting applies without re-importing): retry n waits
    WEBHOOK_BACKOFF_BASE**n seconds. The delivery's own attempt count (which also counts an
    attempt a killed worker left) decides when it has failed for good; procrastinate's limit is
    only a backstop above it."""

    def get_retry_decision(self, *, exception: BaseException, job: Any) -> RetryDecision | None:
        conf = settings.MEMPORTAL
        now = RetryStrategy(max_attempts=conf["WEBHOOK_MAX_ATTEMPTS"] + 5,
                            exponential_wait=conf["WEBHOOK_BACKOFF_BASE"], retry_exceptions=self.retry_exceptions)
        return now.get_retry_decision(exception=exception, job=job)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@app.task(name="agents.webhook_deliver", queue="webhooks", retry=WebhookRetry(retry_exceptions={DeliveryFailed}))
def webhook_deliver_task(delivery_id: str) -> None:
    with worker_connection():
        webhook_deliver(delivery_id=delivery_id, worker=worker_name())
