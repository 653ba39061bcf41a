"""Writes for staff: the access log, exports (streamed and background), export file erasure."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from memportal import erasure, queue
from memportal.memory import tenant_selectors
from memportal.memory.models import Tenant
from memportal.memory.records import iso_or_none
from memportal.memory.tenant_selectors import AuditFilter

from .models import AccessRecord, ExportJob

EXPORT_FIELDS = [
    "id", "app_id", "subject_id", "person", "agent_id", "run_id", "role", "text", "created_at", "updated_at",
    "metadata",
]
#: Cells a spreadsheet would run as a formula; prefixed with ' in CSV (memory text is untrusted).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# --- access log -----------------------------------------------------------------------------------
def access_record_write(
    *, tenant: Tenant, actor: AbstractBaseUser, action: str, flt: AuditFilter | dict[str, Any],
    subject_ids: Iterable[str], memories_shown: int, extra: dict[str, Any] | None = None,
    per_subject: dict[str, int] | None = None,
) -> AccessRecord:
    """``subject_ids``: one entry per memory shown (so each person's share is counted), or give
    ``per_subject`` ({subject id: count}) when the counts come from a query."""
    filters = flt.as_dict() if isinstance(flt, AuditFilter) else dict(flt)
    if extra:
        filters.update(extra)
    filters = filters_without_text(filters)
    if per_subject is None:
        per_subject = dict(Counter(s for s in subject_ids if s))
    per_subject = {s: n for s, n in per_subject.items() if s}
    return AccessRecord.objects.create(
        tenant=tenant, actor=actor if actor.is_authenticated else None,
        actor_label=getattr(actor, "email", "") or str(actor), action=action, filters=filters,
        subject_ids=sorted(per_subject), memories_shown=memories_shown, shown_per_subject=per_subject,
    )


def filters_without_text(filters: dict[str, Any]) -> dict[str, Any]:
    """Typed search text is kept as a keyed hash and its length, never verbatim: access records
    are append-only and outlive any erasure, and what staff typed can quote a memory."""
    out = {k: v for k, v in filters.items() if k not in {"search", "text"}}
    typed = filters.get("search") or filters.get("text")
    if typed:
        out["search_hash"] = erasure.search_hash(str(typed))
        out["search_length"] = len(str(typed))
    return out


# --- filters stored on jobs -----------------------------------------------------------------------
def audit_filter_to_json(flt: AuditFilter) -> dict[str, Any]:
    """Lossless (keeps ANY as ANY), unlike ``as_dict`` which is for display."""
    return {
        "person": flt.person, "agent": flt.agent, "session": flt.session, "text": flt.text,
        "date_from": flt.date_from.isoformat() if flt.date_from else None,
        "date_to": flt.date_to.isoformat() if flt.date_to else None,
    }


def audit_filter_from_json(data: dict[str, Any]) -> AuditFilter:
    def day(value: Any) -> date | None:
        return date.fromisoformat(value) if value else None

    return AuditFilter(
        person=data.get("person"), agent=data.get("agent"), session=data.get("session"),
        text=data.get("text"),
        date_from=day(data.get("date_from")), date_to=day(data.get("date_to")),
    )


# --- rows -----------------------------------------------------------------------------------------
def _export_rows(
    *, tenant: Tenant, flt: AuditFilter, batch_size: int, seen: set[str] | None = None
) -> Iterator[tuple[Iterator[dict[str, Any]], int]]:
    """Per batch: (its rows as dicts keyed by EXPORT_FIELDS, made one at a time from the SQL tuples, count)."""
    labels = tenant_selectors.tenant_people_labels(tenant=tenant)  # once, not per row
    loads = json.loads
    for batch in tenant_selectors.tenant_export_batches(tenant=tenant, flt=flt, batch_size=batch_size):
        if seen is not None:  # whose memories a file holds: its download is a look at each of them
            seen.update(row[2] for row in batch if row[2])
        rows = (
            {
                "id": memory_id,
                "app_id": app_id,
                "subject_id": subject or "",
                "person": labels.get(subject or "", ""),
                "agent_id": agent_id,
                "run_id": run_id,
                "role": role,
                "text": text or "",
                "created_at": iso_or_none(created_at),
                "updated_at": iso_or_none(updated_at),
                # Django hands jsonb over as text; "{}" is by far the most common value.
                "metadata": loads(metadata) if metadata and metadata != "{}" else {},
            }
            for memory_id, app_id, subject, agent_id, run_id, role, text, created_at, updated_at, metadata in batch
        )
        yield rows, len(batch)


def _export_chunks(
    *, tenant: Tenant, flt: AuditFilter, fmt: str, batch_size: int, seen: set[str] | None = None
) -> Iterator[tuple[str, int]]:
    """(text, memories in it): one chunk per batch (plus a CSV header), never the whole tenant at once."""
    batches = _export_rows(tenant=tenant, flt=flt, batch_size=batch_size, seen=seen)
    if fmt == ExportJob.Format.JSONL:
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        for rows, count in batches:
            yield "".join([dumps(row) + "\n" for row in rows]), count
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    yield buffer.getvalue(), 0
    for rows, count in batches:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerows(_csv_row(row) for row in rows)
        yield buffer.getvalue(), count


def _csv_text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def _csv_row(row: dict[str, Any]) -> list[str]:
    """One CSV line's cells: None is empty, metadata is sorted JSON, and a cell a spreadsheet
    would run as a formula is prefixed with ' (memory text is untrusted)."""
    metadata = row["metadata"]
    return [
        _csv_text(row["id"]), _csv_text(row["app_id"]), _csv_text(row["subject_id"]), _csv_text(row["person"]),
        _csv_text(row["agent_id"]), _csv_text(row["run_id"]), _csv_text(row["role"]), _csv_text(row["text"]),
        row["created_at"] or "", row["updated_at"] or "",  # ISO times start with a digit
        json.dumps(metadata, ensure_ascii=False, sort_keys=True) if metadata else "",
    ]


def export_batch_size() -> int:
    """Rows per query and per streamed chunk: few round trips, memory bounded by one batch."""
    return int(settings.MEMPORTAL["EXPORT_BATCH_SIZE"])


def export_lines(*, tenant: Tenant, flt: AuditFilter, fmt: str, batch_size: int | None = None) -> Iterator[str]:
    """The export as text chunks (a batch of lines each, plus a CSV header chunk)."""
    batch_size = batch_size or export_batch_size()
    for text, _ in _export_chunks(tenant=tenant, flt=flt, fmt=fmt, batch_size=batch_size):
        yield text


def export_stream_start(
    *, tenant: Tenant, actor: AbstractBaseUser, flt: AuditFilter, fmt: str
) -> tuple[AccessRecord, Iterator[str]]:
    """Log the export (whose memories it holds) before the first byte, then hand back the stream."""
    tally = tenant_selectors.tenant_subject_tally(tenant=tenant, flt=flt)
    record = access_record_write(
        tenant=tenant, actor=actor, action=AccessRecord.Action.EXPORT, flt=flt, subject_ids=tally,
        memories_shown=sum(tally.values()), extra={"format": fmt, "delivery": "download"}, per_subject=tally,
    )
    return record, export_lines(tenant=tenant, flt=flt, fmt=fmt)


def export_file_downloaded(*, job: ExportJob, actor: AbstractBaseUser) -> AccessRecord:
    """Downloading a finished file is a look at everyone whose memories it holds (recorded when it
    was written), whoever downloads it: the person sees it on "Who looked"."""
    # Each person's share of the file: counted when the job was requested (its access record).
    requested = AccessRecord.objects.filter(
        tenant=job.tenant, filters__job=str(job.pk), filters__delivery="file"
    ).values_list("shown_per_subject", flat=True).first() or {}
    per_subject = {s: requested.get(s, 0) for s in job.subject_ids}
    return access_record_write(
        tenant=job.tenant, actor=actor, action=AccessRecord.Action.EXPORT, flt=job.filters,
        subject_ids=job.subject_ids, memories_shown=job.written,
        extra={"format": job.fmt, "delivery": "file download", "job": str(job.pk)}, per_subject=per_subject,
    )


# --- background export jobs -----------------------------------------------------------------------
export_dir = erasure.export_dir  # one definition of where export files live


def export_ttl() -> timedelta:
    return timedelta(hours=float(settings.MEMPORTAL.get("EXPORT_TTL_HOURS", 24)))


def export_job_path(job: ExportJob) -> Path:
    return export_dir() / job.file_name


def export_job_create(*, tenant: Tenant, actor: AbstractBaseUser, flt: AuditFilter, fmt: str) -> ExportJob:
    if fmt not in ExportJob.Format.values:
        raise ValueError("unknown export format")
    tally = tenant_selectors.tenant_subject_tally(tenant=tenant, flt=flt)
    total = sum(tally.values())
    with transaction.atomic():
        job = ExportJob.objects.create(
            tenant=tenant, requested_by=actor, fmt=fmt, filters=audit_filter_to_json(flt), total=total,
            expires_at=timezone.now() + export_ttl(),
        )
        job.file_name = f"{tenant.slug}.{job.pk}.{fmt}"  # "." never occurs in a slug
        job.save(update_fields=["file_name"])
        access_record_write(
            tenant=tenant, actor=actor, action=AccessRecord.Action.EXPORT, flt=flt, subject_ids=tally,
            memories_shown=total, extra={"format": fmt, "delivery": "file", "job": str(job.pk)}, per_subject=tally,
        )
        export_job_defer(job)
    return job


def export_job_defer(job: ExportJob) -> None:
    """Hand the export to a worker once its row is committed."""
    from . import tasks  # the task module imports this one

    queue.defer_on_commit(tasks.export_task, job_id=str(job.pk), lock=f"export:{job.pk}",
                          queueing_lock=f"export:{job.pk}")


def export_job_start(*, job: ExportJob) -> ExportJob | None:
    """Mark a queued (or interrupted) export running, from the start again: the file is rewritten
    from its first row under a temporary name and published once, when complete. None when the
    job is not live (done, erased, expired, failed)."""
    now = timezone.now()
    started = ExportJob.objects.filter(
        pk=job.pk, state__in=[ExportJob.State.QUEUED, ExportJob.State.RUNNING]
    ).update(state=ExportJob.State.RUNNING, heartbeat_at=now, written=0)
    if not started:
        return None
    ExportJob.objects.filter(pk=job.pk, started_at__isnull=True).update(started_at=now)
    job.refresh_from_db()
    return job


def export_job_claim() -> ExportJob | None:
    """For tests only (the queue runs exports now): the oldest queued export, marked running."""
    job = ExportJob.objects.filter(state=ExportJob.State.QUEUED).order_by("created_at").first()
    return export_job_start(job=job) if job is not None else None


def export_job_process(*, job: ExportJob, batch_size: int | None = None, pause_seconds: float = 0.0) -> ExportJob:
    """Write the file (to a temp name, renamed when complete), updating progress per batch.

    An erasure in the tenant marks a running job erased (erasure.ExportFiles) under the job
    row's lock. Progress updates only touch a job that is still running, and the file is
    published only after checking, under the same lock, that it still is: a file holding rows
    read before an erasure is deleted instead of published.
    """
    batch_size = batch_size or export_batch_size()
    tenant = job.tenant
    flt = audit_filter_from_json(job.filters)
    path = export_job_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".part")
    # Live: claimed by a worker (or processed directly by a command or test). An erasure moves it to "erased".
    live_states = [ExportJob.State.QUEUED, ExportJob.State.RUNNING]
    running = ExportJob.objects.filter(pk=job.pk, state__in=live_states)
    written = 0
    seen: set[str] = set()
    try:
        with open(partial, "w", encoding="utf-8", newline="") as out:
            os.chmod(partial, 0o600)
            for chunk, rows in _export_chunks(tenant=tenant, flt=flt, fmt=job.fmt, batch_size=batch_size,
                                              seen=seen):
                out.write(chunk)
                if rows:  # one chunk per batch: progress and heartbeat per batch
                    written += rows
                    if not running.update(written=written, heartbeat_at=timezone.now()):
                        break  # erased (or expired) meanwhile: stop reading
                    if pause_seconds:
                        time.sleep(pause_seconds)  # throttle: leave the database to the site's requests
        with transaction.atomic():
            state = ExportJob.objects.select_for_update().filter(pk=job.pk).values_list("state", flat=True).first()
            if state not in live_states:
                partial.unlink(missing_ok=True)
            else:
                os.replace(partial, path)
                ExportJob.objects.filter(pk=job.pk).update(
                    state=ExportJob.State.DONE, written=written, total=written, finished_at=timezone.now(),
                    heartbeat_at=timezone.now(), filters=filters_without_text(job.filters), subject_ids=sorted(seen),
                )
    except Exception as exc:
        partial.unlink(missing_ok=True)
        running.update(state=ExportJob.State.FAILED, error=type(exc).__name__, finished_at=timezone.now(),
                       filters=filters_without_text(job.filters))
        raise
    job.refresh_from_db()
    return job


def export_files_erase_for_erasure(*, tenant_id: int) -> int:
    """For an erasure in the tenant (erasure.ExportFiles): every export of the tenant that holds or
    may come to hold erased rows goes. Returns files removed plus exports stopped.

    Finished files are deleted (the job says "removed by an erasure"); running and queued jobs
    are marked erased under their row lock (export_job_process then discards its file); the
    typed text of their filter is reduced to a hash.
    """
    removed = 0
    jobs = ExportJob.objects.select_for_update().filter(
        tenant_id=tenant_id, state__in=[ExportJob.State.DONE, ExportJob.State.RUNNING, ExportJob.State.QUEUED]
    )
    for job in jobs:
        final = export_job_path(job)
        for path in (final, final.with_suffix(final.suffix + ".part")):
            if job.file_name and path.exists():
                path.unlink()
                removed += 1
        if job.state != ExportJob.State.DONE:
            removed += 1  # an export stopped before it could publish anything
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportJob.State.ERASED, finished_at=timezone.now(), filters=filters_without_text(job.filters)
        )
    tenant = Tenant.objects.get(pk=tenant_id)
    folder = export_dir()
    if folder.exists():
        # Files whose row is gone (e.g. a crash between write and commit) still carry the slug prefix.
        for stray in folder.glob(f"{tenant.slug}.*"):
            stray.unlink(missing_ok=True)
            removed += 1
    return removed


def export_files_erase(*, tenant: Tenant | None = None, expired_only: bool = False) -> int:
    """Delete export files (and their job rows) of a tenant, or every expired one. Returns files removed.

    Job rows go too: a finished export of an offboarded tenant must leave nothing to download.
    """
    jobs = ExportJob.objects.all()
    if tenant is not None:
        jobs = jobs.filter(tenant=tenant)
    if expired_only:
        jobs = jobs.filter(expires_at__lt=timezone.now())
    removed = 0
    for job in jobs.iterator():
        final = export_job_path(job)
        for path in (final, final.with_suffix(final.suffix + ".part")):
            if job.file_name and path.exists():
                path.unlink()
                removed += 1
    if expired_only:
        # A job an erasure removed keeps saying so after its expiry date passes.
        jobs.exclude(state=ExportJob.State.ERASED).update(state=ExportJob.State.EXPIRED)
    else:
        jobs.delete()
    if tenant is not None:
        # Files whose row is gone (e.g. a crash between write and commit) still carry the slug prefix.
        folder = export_dir()
        if folder.exists():
            for stray in folder.glob(f"{tenant.slug}.*"):
                stray.unlink()
                removed += 1
    return removed
