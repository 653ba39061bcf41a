"""Reads for "Your apps": every app (tenant) that holds memories about the signed-in person.

A person is known to several tenants by signing up and by portal links (each a membership);
``access.person_memberships`` is the only source of which apps are theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max

from memportal.agents.models import KeyRead
from memportal.memory import selectors
from memportal.memory.models import Membership, MemoryEvent
from memportal.staff.models import AccessRecord


@dataclass(frozen=True)
class AppSummary:
    """One app as the person sees it: how much it holds, when it last wrote and read, their controls."""

    member: Membership
    memories: int
    last_write: datetime | None
    last_app_read: datetime | None
    last_staff_look: datetime | None
    current: bool

    @property
    def slug(self) -> str:
        return self.member.tenant.slug

    @property
    def name(self) -> str:
        return self.member.tenant.name


def app_summary(*, member: Membership, current: Membership | None = None) -> AppSummary:
    """Counts and times for one of the person's memberships (a few indexed queries)."""
    last_write = MemoryEvent.objects.filter(app_id=member.tenant.slug, subject_id=member.subject_id).aggregate(
        at=Max("recorded_at"))["at"]
    last_app_read = KeyRead.objects.filter(tenant_id=member.tenant_id, subject_id=member.subject_id).aggregate(
        at=Max("last_at"))["at"]
    last_staff = AccessRecord.objects.filter(
        tenant_id=member.tenant_id, subject_ids__contains=[member.subject_id]).aggregate(at=Max("at"))["at"]
    return AppSummary(
        member=member, memories=selectors.memory_count(member=member), last_write=last_write,
        last_app_read=last_app_read, last_staff_look=last_staff,
        current=current is not None and current.pk == member.pk,
    )


def app_summaries(*, members: list[Membership], current: Membership | None) -> list[AppSummary]:
    return [app_summary(member=m, current=current) for m in members]
