from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from memportal.memory.models import Membership
from tests.staff.bulk import bulk_memories

pytestmark = pytest.mark.django_db


def test_audit_app_counts_per_person_agent_session_and_flags_anomalies(owner, colleague, stranger):
    bulk_memories(member=owner.member, count=3, agent_id="travel", run_id="r1")
    bulk_memories(member=colleague.member, count=2, agent_id="food")
    bulk_memories(member=stranger.member, count=4)
    bulk_memories(member=owner.member, count=6, app_id=None)  # no app_id: unreachable by tenant
    Membership.objects.filter(pk=colleague.member.pk).update(ended_at=timezone.now())
    out = io.StringIO()
    call_command("audit_app", "concierge_app", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["memories"] == 5
    assert {r["value"]: r["count"] for r in report["per_agent"]} == {"travel": 3, "food": 2}
    assert report["per_session"] == [{"value": "r1", "count": 3}]
    people = {r["value"]: r for r in report["per_person"]}
    assert people[owner.member.subject_id]["count"] == 3 and people[owner.member.subject_id]["member"]
    assert not people[colleague.member.subject_id]["member"]
    assert report["anomalies"]["memories_without_app_id_global"] == 6
    assert report["anomalies"]["memories_of_non_members"] == 2
    assert stranger.member.subject_id not in out.getvalue()


def test_audit_app_prints_a_readable_report(owner):
    bulk_memories(member=owner.member, count=2, agent_id="travel")
    out = io.StringIO()
    call_command("audit_app", "concierge_app", stdout=out)
    assert "Per agent:" in out.getvalue() and "travel" in out.getvalue() and "Anomalies:" in out.getvalue()
