"""Auto-delete (retention) and delete-by-date-range: erase the memories a person's agents wrote
in a time window, through the erasure registry, with a receipt like every other erasure.

Memories are chosen by their ``created_at`` (when the app first stored them; a later correction
does not restart the clock, as with Google's auto-delete of activity). A memory whose stored time
does not parse is never chosen by date (docs/your-data.md). The raw messages stored in the same
window go with them (erasure.Messages with ``Scope.window``).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .errors import InvalidInput
from .models import ErasureReceipt, Membership, MemoryMessage
from .records import TABLE
from .services import _erase_with_receipt, _scope

#: How many memories one retention batch erases (one transaction and one receipt per batch).
RETENTION_BATCH = 500

# The stored time as a timestamptz, or NULL when it is not ISO 8601 (never a cast error).
_CREATED = (
    "CASE WHEN payload->>'created_at' ~ '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?"
    "([+-]\\d{2}:?\\d{2}|Z)?$' THEN (payload->>'created_at')::timestamptz END"
)


def months_before(when: datetime, months: int) -> datetime:
    """``when`` minus whole calendar months (31 May - 3 months = 28/29 Feb), time of day kept."""
    total = when.year * 12 + (when.month - 1) - months
    year, month = divmod(total, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def window_check(*, start: datetime | None, end: datetime, now: datetime | None = None) -> None:
    """A window must be aware, in the past, and not end before it starts; else InvalidInput."""
    now = now or timezone.now()
    for name, value in (("start", start), ("end", end)):
        if value is not None and timezone.is_naive(value):
            raise InvalidInput(name, "needs a time zone")
    if end > now:
        raise InvalidInput("end", "is in the future")
    if start is not None and start > now:
        raise InvalidInput("start", "is in the future")
    if start is not None and end <= start:
        raise InvalidInput("end", "must be after the start")


def memory_ids_in_window(
    *, member: Membership, start: datetime | None, end: datetime, limit: int | None = None, lock: bool = False
) -> list[str]:
    """The person's memories (in this app) written in [start, end), oldest first."""
    where = f"payload->>'app_id' = %s AND payload->>'user_id' = %s AND {_CREATED} < %s"
    params: list = [member.tenant.slug, member.subject_id, end]
    if start is not None:
        where += f" AND {_CREATED} >= %s"
        params.append(start)
    sql = f"SELECT id FROM {TABLE} WHERE {where} ORDER BY {_CREATED}, id"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    if lock:  # a correction in flight finishes first (and its history row is erased with it)
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [str(r[0]) for r in cursor.fetchall()]


def memory_count_in_window(*, member: Membership, start: datetime | None, end: datetime) -> int:
    return len(memory_ids_in_window(member=member, start=start, end=end))


def _messages_in_window(member: Membership, start: datetime | None, end: datetime) -> bool:
    rows = MemoryMessage.objects.filter(subject_id=member.subject_id, created_at__lt=end)
    if start is not None:
        rows = rows.filter(created_at__gte=start)
    return rows.exists()


def memory_erase_window(
    *, member: Membership, start: datetime | None, end: datetime, kind: str,
    requested_by: AbstractBaseUser | None = None, via: str = "you", limit: int | None = None,
) -> ErasureReceipt | None:
    """Erase (up to ``limit`` of) the person's memories written in [start, end), and the raw
    messages stored then, with one receipt. None, and nothing written, when nothing is there."""
    window_check(start=start, end=end)
    with transaction.atomic():
        ids = memory_ids_in_window(member=member, start=start, end=end, limit=limit, lock=True)
        if not ids and not _messages_in_window(member, start, end):
            return None
        scope = _scope(member, memory_ids=tuple(ids), window=(start, end))
        return _erase_with_receipt(scope=scope, tenant=member.tenant, member=member, kind=kind,
                                   requested_by=requested_by, via=via)


def memory_erase_range(
    *, member: Membership, start: datetime | None, end: datetime, requested_by: AbstractBaseUser | None,
) -> ErasureReceipt | None:
    """The person's "delete by date range" (My Activity's last hour / last day / custom)."""
    return memory_erase_window(member=member, start=start, end=end, kind=ErasureReceipt.Kind.RANGE,
                               requested_by=requested_by, via="you")


def retention_set(*, member: Membership, months: int | None) -> Membership:
    """The person's own auto-delete choice for this app (None: follow the app's default)."""
    allowed = {value for value, _ in Membership._meta.get_field("retention_months").choices}
    if months is not None and months not in allowed:
        raise InvalidInput("retention", "must be 3, 18 or 36 months, never, or the app's default")
    Membership.objects.filter(pk=member.pk).update(retention_months=months)
    member.retention_months = months
    return member


def retention_members() -> Iterator[Membership]:
    """Live memberships whose effective auto-delete is on."""
    return (
        Membership.objects.filter(ended_at__isnull=True, tenant__offboarded_at__isnull=True)
        .filter(Q(retention_months__gt=0) | Q(retention_months__isnull=True, tenant__retention_months__gt=0))
        .select_related("tenant").order_by("pk").iterator()
    )


def retention_member_run(
    *, member: Membership, now: datetime | None = None, batch_size: int = RETENTION_BATCH
) -> list[ErasureReceipt]:
    """Erase what is older than the person's auto-delete, batch by batch (each its own transaction
    and receipt). Idempotent and resumable: a killed run leaves whole batches, and the next run
    picks the rest by date again; with nothing older, nothing is written."""
    months = member.retention_effective
    if not months:
        return []
    cutoff = months_before(now or timezone.now(), months)
    receipts = []
    while True:
        receipt = memory_erase_window(member=member, start=None, end=cutoff, kind=ErasureReceipt.Kind.RETENTION,
                                      via="retention", limit=batch_size)
        if receipt is None:
            break
        receipts.append(receipt)
        if receipt.memories_erased < batch_size:
            break
    return receipts


def retention_run(*, now: datetime | None = None, batch_size: int = RETENTION_BATCH) -> list[ErasureReceipt]:
    """The periodic job's body: every membership with auto-delete on."""
    now = now or timezone.now()
    receipts: list[ErasureReceipt] = []
    for member in retention_members():
        receipts += retention_member_run(member=member, now=now, batch_size=batch_size)
    return receipts
