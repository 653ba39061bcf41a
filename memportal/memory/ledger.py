"""The per-memory read ledger: every time an app key or a staff page returned one of a person's
memories, counted per memory, reader and day (``MemoryRead``).

``memory_reads_record`` is one ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE`` per
request, however many memories the answer held; the rows carry the memory's scope (person,
agent, session) so ``erasure.MemoryReads`` erases and counts them like feedback rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

from .models import Membership, MemoryRead, Tenant
from .records import MemoryRecord


def memory_reads_record(*, tenant: Tenant, records: Iterable[MemoryRecord], via: str, reader: str) -> int:
    """Count one read of each returned memory (a memory returned twice in one answer counts twice).

    One statement for the whole answer. Returns the number of distinct memories counted."""
    counts: Counter[str] = Counter()
    scope: dict[str, MemoryRecord] = {}
    for record in records:
        counts[record.id] += 1
        scope[record.id] = record
    if not counts:
        return 0
    now = timezone.now()
    ids = sorted(counts)  # a stable order: concurrent requests lock the rows in the same order
    table = MemoryRead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, memory_id, subject_id, agent_id, run_id, day, via, reader, count, "
            "last_at) SELECT %s, m, s, a, r, %s, %s, %s, c, %s "
            "FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::int[]) AS t(m, s, a, r, c) "
            "ON CONFLICT (memory_id, day, via, reader) DO UPDATE SET "
            f"count = {table}.count + EXCLUDED.count, last_at = EXCLUDED.last_at",
            [
                tenant.pk, now.date(), via, reader[:254], now,
                ids, [scope[i].subject_id for i in ids], [scope[i].agent_id for i in ids],
                [scope[i].run_id for i in ids], [counts[i] for i in ids],
            ],
        )
    return len(ids)


def key_reader_label(prefix: str) -> str:
    return f"mpk_{prefix}_"


def memory_reads_for_memory(*, member: Membership, memory_id: str) -> QuerySet[MemoryRead]:
    """The read ledger of one memory, newest day first. The caller has checked that the memory is
    the person's (``selectors.memory_get``); the filter repeats the person's scope anyway."""
    return MemoryRead.objects.filter(tenant_id=member.tenant_id, subject_id=member.subject_id, memory_id=memory_id)


def memory_reads_for_member(*, member: Membership) -> QuerySet[MemoryRead]:
    """Every ledger row of the person in this app (their data download)."""
    return MemoryRead.objects.filter(tenant_id=member.tenant_id, subject_id=member.subject_id).order_by(
        "memory_id", "-day", "via", "reader")


@dataclass(frozen=True)
class ReadTotals:
    """One memory's reads, summed: by apps' keys and by staff pages, and the latest."""

    by_apps: int
    by_staff: int
    last_at: datetime | None


def read_totals(rows: QuerySet[MemoryRead]) -> ReadTotals:
    """Sums over every row of the queryset (one query), not only the rows a page shows."""
    found = rows.aggregate(
        by_apps=Sum("count", filter=Q(via=MemoryRead.Via.KEY)),
        by_staff=Sum("count", filter=Q(via=MemoryRead.Via.STAFF)),
        last_at=Max("last_at"),
    )
    return ReadTotals(by_apps=found["by_apps"] or 0, by_staff=found["by_staff"] or 0, last_at=found["last_at"])


def ledger_document(*, member: Membership) -> dict[str, object]:
    """The ``ledger`` section of the person's data download (docs/your-data.md)."""
    return {
        "reads": [
            {"memory_id": str(r.memory_id), "day": r.day.isoformat(), "via": r.via, "reader": r.reader,
             "count": r.count, "last_at": r.last_at.isoformat()}
            for r in memory_reads_for_member(member=member).iterator()
        ],
    }
