"""Offboarding a tenant: erase every memory under its app_id, in batches, resumably, verified.

The job row is the progress and the receipt. ``offboarding_start`` creates it (idempotently) and
defers the procrastinate task ``offboarding.run`` (``tasks.py``) on commit; a worker, or
``offboard_app`` in its own process, runs it with ``offboarding_execute``:

1. first run: count what is there (the receipt's "before"), set ``Tenant.offboarded_at`` so
   the app API refuses new writes while erasure runs;
2. ``tenant_erase_batch`` until it erases 0 memories (each batch its own transaction, so a kill
   loses at most one uncommitted batch and the next run simply continues);
3. erase export files; end memberships if configured;
4. verify with fresh count queries (vectors, history, messages, exports) and write the receipt.

Every step is idempotent, so running a finished job again, or two starts, is harmless.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from memportal import erasure, queue
from memportal.memory import services as memory_services
from memportal.memory import tenant_selectors
from memportal.memory.models import ErasureReceipt, Membership, MemoryMessage, Tenant
from memportal.staff.services import export_dir

from .models import OffboardingJob

Progress = Callable[[OffboardingJob], None]


@dataclass(frozen=True)
class DryRun:
    memories: int
    people_with_memories: int
    memberships_active: int
    history_rows: int
    message_rows: int
    export_files: int
    agents: int
    sessions: int


def _history_count(tenant: Tenant) -> int:
    """History rows written in the tenant (each row carries its scope), whether or not their memory
    still exists: the rows of a deleted memory hold its text just the same."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM memory_memoryevent WHERE app_id = %s OR subject_id IN "
            "(SELECT subject_id FROM memory_membership WHERE tenant_id = %s)",
            [tenant.slug, tenant.pk],
        )
        return cur.fetchone()[0]


def _subjects(tenant: Tenant) -> list[str]:
    return list(Membership.objects.filter(tenant=tenant).values_list("subject_id", flat=True))


def _export_files(tenant: Tenant) -> int:
    folder = export_dir()
    return len(list(folder.glob(f"{tenant.slug}.*"))) if folder.exists() else 0


def offboarding_dry_run(*, tenant: Tenant) -> DryRun:
    """What an offboarding would erase, counted now (no memory text)."""
    return DryRun(
        memories=tenant_selectors.tenant_memory_count(tenant=tenant),
        people_with_memories=len(tenant_selectors.tenant_scope_counts(tenant=tenant, key="user_id")),
        memberships_active=Membership.objects.filter(tenant=tenant, ended_at__isnull=True).count(),
        history_rows=_history_count(tenant),
        message_rows=MemoryMessage.objects.filter(subject_id__in=_subjects(tenant)).count(),
        export_files=_export_files(tenant),
        agents=len(tenant_selectors.tenant_scope_counts(tenant=tenant, key="agent_id")),
        sessions=len(tenant_selectors.tenant_scope_counts(tenant=tenant, key="run_id")),
    )


def offboarding_start(
    *, tenant: Tenant, requested_by: AbstractBaseUser | None = None, via: str = "admin",
    memberships_action: str = OffboardingJob.Memberships.END, batch_size: int = 2000,
) -> OffboardingJob:
    """Queue the tenant's offboarding, or return the job already queued/running for it."""
    existing = OffboardingJob.objects.filter(tenant=tenant, state__in=["queued", "running"]).first()
    if existing is not None:
        # Make sure a task is waiting for it (a row queued before the queue existed, or whose task
        # was lost); one already waiting holds the queueing lock, and a second run is a no-op.
        offboarding_defer(existing)
        return existing
    user = requested_by if requested_by is not None and requested_by.is_authenticated else None
    try:
        with transaction.atomic():
            job = OffboardingJob.objects.create(
                tenant=tenant, requested_by=user, via=via, memberships_action=memberships_action,
                batch_size=batch_size,
            )
            offboarding_defer(job)
            return job
    except IntegrityError:  # a concurrent start won the unique constraint
        return OffboardingJob.objects.get(tenant=tenant, state__in=["queued", "running"])


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def tenant_work_lock(*, tenant: Tenant, kind: str) -> contextlib.AbstractContextManager[bool]:
    """True if this connection may run the tenant's ``kind`` of work now (see queue.advisory_lock)."""
    return queue.advisory_lock(f"memportal:{kind}:{tenant.pk}")


def offboarding_defer(job: OffboardingJob) -> None:
    """Hand the job to a worker once its row is committed; one offboarding per tenant at a time."""
    from . import tasks  # the task module imports this one

    queue.defer_on_commit(
        tasks.offboarding_task, job_id=str(job.pk),
        lock=f"offboarding:{job.tenant_id}", queueing_lock=f"offboarding:{job.pk}",
    )


def offboarding_execute(
    *, job: OffboardingJob, worker: str | None = None, progress: Progress | None = None,
    max_batches: int | None = None, pause_seconds: float = 0.0,
) -> OffboardingJob:
    """Run a queued or interrupted job in this process (a worker's task, ``offboard_app``, tests).

    A finished job is returned as it is; a job another live process is running (it holds the
    tenant's lock) too, still "running". Otherwise the job is marked running (one more attempt)
    and resumed where its committed batches left it.
    """
    job.refresh_from_db()
    if not job.active:
        return job
    with tenant_work_lock(tenant=job.tenant, kind="offboarding") as got:
        if not got:
            return job
        job.refresh_from_db()
        if not job.active:
            return job
        now = timezone.now()
        job.state = OffboardingJob.State.RUNNING
        job.worker = (worker or worker_name())[:100]
        job.attempts += 1
        job.started_at = job.started_at or now
        _save(job, "state", "worker", "attempts", "started_at")
        return offboarding_process(job=job, progress=progress, max_batches=max_batches, pause_seconds=pause_seconds)


def _save(job: OffboardingJob, *fields: str) -> None:
    job.heartbeat_at = timezone.now()
    job.save(update_fields=[*fields, "heartbeat_at"])


def offboarding_verify(*, tenant: Tenant, ends_membership: bool = True) -> dict[str, int]:
    """Every store of the erasure registry counted again for the whole tenant, on a fresh
    connection (not the one that erased). All must be 0."""
    return erasure.count(scope=memory_services.tenant_scope(tenant=tenant, ends_membership=ends_membership))


def _add_counts(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}


def offboarding_process(
    *, job: OffboardingJob, max_batches: int | None = None, progress: Progress | None = None,
    pause_seconds: float = 0.0,
) -> OffboardingJob:
    """Run a started job to the end (or for ``max_batches`` batches, for tests and throttling)."""
    tenant = job.tenant
    if job.memories_before is None:  # first run: the receipt's "before", taken once
        job.memories_before = tenant_selectors.tenant_memory_count(tenant=tenant)
        job.people_before = len(tenant_selectors.tenant_scope_counts(tenant=tenant, key="user_id"))
        _save(job, "memories_before", "people_before")
    if tenant.offboarded_at is None:
        # Stop the app API from adding memories while we erase (access_membership_for_external).
        tenant.offboarded_at = timezone.now()
        tenant.save(update_fields=["offboarded_at"])
    try:
        done_batches = 0
        while max_batches is None or done_batches < max_batches:
            # The batch and its count commit together: a worker killed at any point leaves the
            # counters equal to what is really gone, so the resumed job's receipt adds up.
            with transaction.atomic():
                erased = memory_services.tenant_erase_batch(tenant=tenant, batch_size=job.batch_size)
                job.memories_erased += erased.memories
                job.history_rows_erased += erased.history
                job.message_rows_erased += erased.messages
                job.batches += 1
                _save(job, "memories_erased", "history_rows_erased", "message_rows_erased", "batches")
            done_batches += 1
            if progress:
                progress(job)
            if erased.memories == 0:
                break
            if pause_seconds:
                time.sleep(pause_seconds)  # throttle: leave the database to the site's requests
        else:
            return job  # stopped on purpose: still 'running', resumable by the next run
        ending = job.memberships_action == OffboardingJob.Memberships.END
        with transaction.atomic():
            rest = memory_services.tenant_erase_rest(tenant=tenant, ends_membership=ending)
            job.history_rows_erased += rest.get("history", 0)
            job.message_rows_erased += rest.get("messages", 0)
            job.export_files_erased += rest.get("export_files", 0)
            job.verification = {**job.verification, "erased": _add_counts(job.verification.get("erased", {}), rest)}
            if ending:
                job.memberships_ended += Membership.objects.filter(tenant=tenant, ended_at__isnull=True).update(
                    ended_at=timezone.now(), ended_reason="offboarded"
                )
            _save(job, "history_rows_erased", "message_rows_erased", "export_files_erased", "memberships_ended",
                  "verification")
        return _finish(job)
    except Exception as exc:
        # The error type only: messages from the database may quote row contents.
        job.state = OffboardingJob.State.FAILED
        job.error = type(exc).__name__
        job.finished_at = timezone.now()
        _save(job, "state", "error", "finished_at")
        raise


def _finish(job: OffboardingJob) -> OffboardingJob:
    tenant = job.tenant
    checks = offboarding_verify(tenant=tenant, ends_membership=job.memberships_action == OffboardingJob.Memberships.END)
    now = timezone.now()
    erased = {**job.verification.get("erased", {}), "vectors": job.memories_erased,
              "history": job.history_rows_erased}
    with transaction.atomic():
        receipt = job.erasure_receipt
        if receipt is None:
            receipt = ErasureReceipt.objects.create(
                tenant=tenant, kind=ErasureReceipt.Kind.TENANT, requested_by=job.requested_by,
                requested_via=job.via, memories_erased=job.memories_erased,
                history_rows_erased=job.history_rows_erased, message_rows_erased=job.message_rows_erased,
                started_at=job.started_at or now, finished_at=now,
            )
            erasure.receipt_lines_write(receipt=receipt, erased={k: erased.get(k, 0) for k in checks})
            from memportal.agents.webhooks import erasure_event_emit

            erasure_event_emit(receipt=receipt, member=None, user_id=None,
                               ends_membership=job.memberships_action == OffboardingJob.Memberships.END)
        for line in receipt.lines.all():
            line.remaining = checks.get(line.store, 0)
            line.save(update_fields=["remaining"])
        receipt.remaining_after = sum(checks.values())
        receipt.verified_at = now
        receipt.save(update_fields=["remaining_after", "verified_at"])
        job.erasure_receipt = receipt
        job.memories_after = checks["vectors"]
        ok = sum(checks.values()) == 0
        job.verification = {**job.verification, "checks": checks, "total": sum(checks.values()), "at": now.isoformat(),
                            "method": "erasure registry recount on a fresh database connection"}
        job.state = OffboardingJob.State.DONE if ok else OffboardingJob.State.FAILED
        job.error = "" if ok else "verification found rows left"
        job.finished_at = now
        _save(job, "erasure_receipt", "memories_after", "verification", "state", "error", "finished_at")
    return job


def offboarding_run(
    *, job: OffboardingJob, progress: Progress | None = None, worker: str | None = None
) -> OffboardingJob:
    """Run this job to the end in this process (offboard_app, tests)."""
    return offboarding_execute(job=job, progress=progress, worker=worker)
