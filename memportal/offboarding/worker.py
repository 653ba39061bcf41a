"""The PostgreSQL-backed worker loop: offboarding jobs first, then background exports.

Run it next to the web server: ``python manage.py offboarding_worker``. Any number may run; rows
are claimed with SELECT ... FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import logging
import time

from django.db import close_old_connections

from memportal.staff import services as staff_services

from . import services

log = logging.getLogger(__name__)


def worker_run_once(*, worker: str | None = None, pause_seconds: float = 0.0) -> bool:
    """Claim and finish at most one job. True if there was one."""
    job = services.offboarding_claim(worker=worker)
    if job is not None:
        log.warning("offboarding %s: claimed job %s", job.tenant.slug, job.pk)
        services.offboarding_process(job=job, pause_seconds=pause_seconds)
        return True
    export = staff_services.export_job_claim()
    if export is not None:
        staff_services.export_job_process(job=export)
        return True
    staff_services.export_files_erase(expired_only=True)
    return False


def worker_loop(
    *, poll_seconds: float = 1.0, max_jobs: int | None = None, worker: str | None = None,
    pause_seconds: float = 0.0,
) -> int:
    done = 0
    while max_jobs is None or done < max_jobs:
        close_old_connections()
        try:
            found = worker_run_once(worker=worker, pause_seconds=pause_seconds)
        except Exception:
            # The job row already says 'failed' (type only, no text); keep serving other jobs.
            log.exception("worker: job failed")
            found = True
        if found:
            done += 1
        else:
            time.sleep(poll_seconds)
    return done
