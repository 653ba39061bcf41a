"""Run queued background work in the test process, the way a worker's tasks would.

Tests on Django's rolled-back transactions never commit, so the tasks deferred on commit never
reach procrastinate's table; these call the same task bodies directly on the oldest queued row.
(tests/offboarding/test_worker_killed.py runs real ``procrastinate worker`` processes.)
"""

from __future__ import annotations

import contextlib

from memportal.offboarding.models import OffboardingJob
from memportal.offboarding.tasks import offboarding_job_run
from memportal.staff.models import ExportJob
from memportal.staff.tasks import export_job_run


def run_one_job() -> bool:
    """Run the oldest queued offboarding, else the oldest queued export. True if there was one."""
    job = OffboardingJob.objects.filter(state=OffboardingJob.State.QUEUED).order_by("created_at").first()
    if job is not None:
        offboarding_job_run(job_id=str(job.pk))
        return True
    export = ExportJob.objects.filter(state=ExportJob.State.QUEUED).order_by("created_at").first()
    if export is not None:
        export_job_run(job_id=str(export.pk))
        return True
    return False


def run_webhook_deliveries(*, rounds: int = 1) -> int:
    """Try every pending webhook delivery once per round, as the queue's retries would (without
    the backoff waits). Returns how many attempts were made."""
    from memportal.agents.models import WebhookDelivery
    from memportal.agents.webhooks import DeliveryFailed, webhook_deliver

    tried = 0
    for _ in range(rounds):
        pending = list(WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING)
                       .order_by("created_at").values_list("pk", flat=True))
        for delivery_id in pending:
            tried += 1
            with contextlib.suppress(DeliveryFailed):  # retried next round, as the queue would
                webhook_deliver(delivery_id=delivery_id, worker="test")
    return tried
