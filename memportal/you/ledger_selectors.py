"""The provenance and read ledger of one memory, for its page (/you/memories/<id>/)."""

from __future__ import annotations

from dataclasses import dataclass

from memportal.memory.ledger import ReadTotals, memory_reads_for_memory, read_totals
from memportal.memory.models import Membership, MemoryRead
from memportal.memory.records import HistoryEntry, MemoryRecord
from memportal.staff.models import AccessRecord

#: Rows shown on the page (the download has them all).
LEDGER_ROWS = 200


@dataclass(frozen=True)
class MemoryLedger:
    app_name: str
    app_id: str
    agent_id: str | None
    run_id: str | None
    written: HistoryEntry | None
    corrections: list[HistoryEntry]
    reads: list[MemoryRead]
    totals: ReadTotals
    staff_looks: list[AccessRecord]


def memory_ledger(*, member: Membership, memory: MemoryRecord, history: list[HistoryEntry]) -> MemoryLedger:
    """``memory`` and ``history`` come from the owner-checked selectors (someone else's id is a 404
    before this runs). Staff exports are the staff access log's export records naming the person
    since the memory was saved: that log records people, not single memories, so it may over-count."""
    rows = memory_reads_for_memory(member=member, memory_id=memory.id)
    reads = list(rows[:LEDGER_ROWS])
    # Staff pages (views and searches) count each memory shown in MemoryRead; exports are logged per person.
    looks = AccessRecord.objects.filter(tenant_id=member.tenant_id, subject_ids__contains=[member.subject_id],
                                        action=AccessRecord.Action.EXPORT)
    if memory.created_at:
        looks = looks.filter(at__gte=memory.created_at)
    return MemoryLedger(
        app_name=member.tenant.name, app_id=member.tenant.slug, agent_id=memory.agent_id, run_id=memory.run_id,
        written=next((h for h in history if h.event == "ADD"), None),
        corrections=[h for h in history if h.event == "UPDATE"],
        reads=reads, totals=read_totals(rows), staff_looks=list(looks[:50]),
    )
