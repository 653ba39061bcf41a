"""Reads for staff pages: the access log. Who may audit which tenant is memportal.access's."""

from __future__ import annotations

from django.db.models import QuerySet

from memportal.memory.models import Membership

from .models import AccessRecord


def access_records_for_member(*, member: Membership) -> QuerySet[AccessRecord]:
    """The staff looks that touched this person's memories, newest first (for 'Who looked')."""
    return AccessRecord.objects.filter(tenant=member.tenant, subject_ids__contains=[member.subject_id])
