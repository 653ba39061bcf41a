"""Reads for the "Your data" pages that combine memory-service reads (no SQL of its own)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.text import Truncator

from memportal import access
from memportal.memory import selectors
from memportal.memory.errors import InvalidInput
from memportal.memory.ledger import ledger_document
from memportal.memory.models import ErasureReceipt, Membership
from memportal.memory.records import MemoryRecord

#: Session key holding the tenant slug the person chose (only ever one of their own).
TENANT_SESSION_KEY = "you_tenant"
#: Session key holding the receipts of a deleted account, shown after sign-out.
ACCOUNT_RECEIPTS_SESSION_KEY = "you_account_receipts"
#: Cosine score under which a search hit is not shown as a match (mem0 uses the same 0.1 cut).
SEARCH_MIN_SCORE = 0.1


#: Request attribute memoizing the signed-in person's memberships (one query per request).
_MEMBERSHIPS_ATTR = "_you_memberships"


@dataclass(frozen=True)
class PersonMemberships:
    active: list[Membership]
    ended: list[Membership]


def person_memberships_for_request(request: HttpRequest) -> PersonMemberships:
    """request.user's memberships, active and ended, loaded once per request in one query (the page,
    its app switcher, the ended-app notice and the navigation's staff check all need them)."""
    found = getattr(request, _MEMBERSHIPS_ATTR, None)
    if found is None:
        rows = access.person_memberships_all(user=request.user)
        found = PersonMemberships(
            active=[m for m in rows if m.ended_at is None and m.tenant.offboarded_at is None],
            ended=[m for m in rows if m.ended_at is not None or m.tenant.offboarded_at is not None],
        )
        setattr(request, _MEMBERSHIPS_ATTR, found)
    return found


def memberships_for_request(request: HttpRequest) -> list[Membership]:
    return person_memberships_for_request(request).active


def member_for_request(request: HttpRequest) -> Membership | None:
    """The acting membership: from request.user only; the session may pick among their own.
    None when they have no active membership (nobody is joined to a tenant by opening a page)."""
    return access.person_membership_pick(
        members=memberships_for_request(request), tenant_slug=request.session.get(TENANT_SESSION_KEY)
    )


def member_choices(*, request: HttpRequest) -> list[Membership]:
    """The apps the person can switch between (their own active memberships)."""
    return memberships_for_request(request)


@dataclass(frozen=True)
class EndedApp:
    """A tenant that no longer holds memories about the person, and the receipt that says so."""

    name: str
    ended_at: datetime | None
    receipt: ErasureReceipt | None


def ended_apps(*, members: list[Membership]) -> list[EndedApp]:
    """For each ended membership: the tenant's name, when it ended, and its erasure receipt
    (the person's own account erasure there, or the tenant's offboarding)."""
    if not members:
        return []
    receipts = {
        r.membership_id: r for r in ErasureReceipt.objects.filter(
            membership__in=members, kind=ErasureReceipt.Kind.ACCOUNT).order_by("finished_at")
    }
    tenant_receipts = {
        r.tenant_id: r for r in ErasureReceipt.objects.filter(
            tenant__in=[m.tenant_id for m in members], kind=ErasureReceipt.Kind.TENANT).order_by("finished_at")
    }
    return [
        EndedApp(m.tenant.name, m.ended_at or m.tenant.offboarded_at,
                 receipts.get(m.pk) or tenant_receipts.get(m.tenant_id))
        for m in members
    ]


@dataclass(frozen=True)
class MemoryRow:
    """One row of the list page, formatted once in Python.

    The list shows 25 rows; per row, Django's ``date`` filter (x2-4), ``truncatechars`` (x3) and
    ``{% url %}`` (x3) cost about 0.2 ms, i.e. 5 ms a page, more than the rest of the request.
    The template only prints these strings (still autoescaped).
    """

    id: str
    text: str
    short: str
    agent_id: str | None
    run_id: str | None
    url: str
    created_iso: str | None
    created_label: str | None
    updated_iso: str | None
    updated_label: str | None


def _when_label(value: datetime) -> tuple[str, str]:
    """``value|date:'c'`` and ``value|date:"j M Y, H:i"`` in the current time zone."""
    local = timezone.localtime(value)
    return local.isoformat(), f"{local.day} {str(MONTHS_3[local.month]).title()} {local.year}, {local:%H:%M}"


def memory_rows(*, records: list[MemoryRecord]) -> list[MemoryRow]:
    # "/you/memories/<id>" for every row from one reverse() (its links add "/", "/edit/", "/delete/").
    prefix = reverse("you:detail", args=["-"]).removesuffix("-/")
    rows = []
    for m in records:
        created = _when_label(m.created_at) if m.created_at else (None, None)
        updated = _when_label(m.updated_at) if m.was_edited and m.updated_at else (None, None)
        rows.append(MemoryRow(
            id=m.id, text=m.text, short=Truncator(m.text).chars(40), agent_id=m.agent_id, run_id=m.run_id,
            url=prefix + str(m.id), created_iso=created[0], created_label=created[1],
            updated_iso=updated[0], updated_label=updated[1],
        ))
    return rows


def scope_exists(*, member: Membership, agent_id: str | None = None, run_id: str | None = None) -> bool:
    """Whether the person has any memory with this agent / session (else the id is "not found")."""
    try:
        return selectors.memory_list(member=member, agent_id=agent_id, run_id=run_id, page_size=1).total > 0
    except InvalidInput:
        return False


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_chunks(*, member: Membership, batch_size: int = 500) -> Iterator[str]:
    """The person's data as JSON text, one memory at a time (never the whole account in memory).

    Every key is documented in docs/your-data.md ("The download, key by key"): keep them in step.
    """
    from memportal.agents.selectors import key_reads_for_member
    from memportal.staff.selectors import access_records_for_member

    head = {
        "format": "memportal.export/1",
        "exported_at": timezone.now().isoformat(),
        "tenant": {"app_id": member.tenant.slug, "name": member.tenant.name},
        "memory_paused": member.memory_paused,
        "retention_months": member.retention_effective,
        "reads_stopped": member.reads_stopped,
    }
    # The header object is written without its closing brace so "memories" can stream after it.
    yield json.dumps(head)[:-1] + ', "memories": ['
    first = True
    # A batch of memories, then the history and feedback of the whole batch in one query each.
    for records in selectors.memory_batches(member=member, batch_size=batch_size):
        ids = [r.id for r in records]
        history = selectors.memory_history_many(member=member, memory_ids=ids)
        feedback = selectors.memory_feedback_many(member=member, memory_ids=ids)
        for record in records:
            item = record.as_dict(user_id=None)
            item.pop("user_id")
            item["tenant"] = member.tenant.slug
            item["agent"] = record.agent_id
            item["session"] = record.run_id
            item["history"] = [
                {"event": h.event, "old_text": h.old_text, "new_text": h.new_text,
                 "at": h.at.isoformat() if h.at else None, "source": h.source or None}
                for h in history.get(record.id, [])
            ]
            item["feedback"] = [
                {"rating": f.rating, "reason": f.reason, "agent_id": f.agent_id, "run_id": f.run_id,
                 "key_prefix": f.key_prefix, "at": _iso(f.created_at)}
                for f in feedback.get(record.id, [])
            ]
            yield ("" if first else ",") + "\n" + json.dumps(item)
            first = False
    # Who looked: staff views of the person's memories and the app's key reads (as on the page).
    access_records = [
        {"at": _iso(r.at), "who": r.actor_label, "action": r.action, "memories_shown": r.memories_shown}
        for r in access_records_for_member(member=member).iterator()
    ]
    key_reads = [
        {"day": r.day.isoformat(), "key_prefix": r.app_key.prefix, "key_name": r.app_key.name, "action": r.action,
         "scope": r.scope, "requests": r.requests, "memories": r.memories,
         "first_at": _iso(r.first_at), "last_at": _iso(r.last_at)}
        for r in key_reads_for_member(member=member).iterator()
    ]
    # After the memories: the read ledger (per memory and day), then who looked.
    tail = {"ledger": ledger_document(member=member), "access": {"staff": access_records, "app_reads": key_reads}}
    yield "\n], " + json.dumps(tail)[1:] + "\n"
