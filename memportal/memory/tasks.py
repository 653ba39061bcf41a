"""The memory service's procrastinate task: the nightly auto-delete (retention)."""

from __future__ import annotations

import logging

from memportal.queue import app, worker_connection

log = logging.getLogger(__name__)


@app.periodic(cron="30 2 * * *", periodic_id="retention")
@app.task(name="memory.retention", queue="maintenance", queueing_lock="memory.retention")
def retention_task(timestamp: int) -> None:
    """02:30 UTC: erase memories older than each person's auto-delete choice (or their app's
    default), in batches, each with a receipt. A retried run continues where the last stopped."""
    from .retention import retention_run

    with worker_connection():
        receipts = retention_run()
        log.info("retention: %d receipts, %d memories erased", len(receipts),
                 sum(r.memories_erased for r in receipts))
