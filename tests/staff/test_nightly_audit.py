"""The nightly audit: a periodic task stores one report per live tenant; staff see the latest on
the tenant's audit page and download it as JSON (through memportal.access, logged as a look)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from memportal.memory import services as memory_services
from memportal.memory.models import Membership
from memportal.queue import app
from memportal.staff.audit import nightly_audit_run
from memportal.staff.models import AccessRecord, TenantAuditReport
from memportal.staff.tasks import nightly_audit_task
from tests.factories import person
from tests.staff.bulk import bulk_memories

pytestmark = pytest.mark.django_db

NIGHT = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


@pytest.fixture
def audited(owner, colleague, stranger, staff):
    bulk_memories(member=owner.member, count=4, agent_id="travel", run_id="r1")
    old = bulk_memories(member=colleague.member, count=3, agent_id="food")
    with connection.cursor() as cur:  # two memories written long ago (past the 365-day default)
        cur.execute("UPDATE memportal_memories SET payload = payload || jsonb_build_object('created_at', "
                    "'2020-01-01T00:00:00+00:00') WHERE id = ANY(%s::uuid[])", [old[:2]])
    bulk_memories(member=stranger.member, count=5)
    Membership.objects.filter(pk=colleague.member.pk).update(memory_paused=True)
    memory_services.memory_delete_all(member=owner.member, agent_id="nothing-here")  # an erasure today
    return nightly_audit_run(scheduled_for=NIGHT)


def test_the_nightly_run_stores_one_report_per_tenant_with_the_counts(audited, owner, colleague):
    reports = {r.tenant.slug: r for r in audited}
    assert set(reports) == {"concierge_app", "sports_brand_portal"}
    counts = reports["concierge_app"].counts
    assert counts["memories"] == 7 and counts["people"] == 2
    assert {r["value"]: r["count"] for r in counts["per_agent"]} == {"travel": 4, "food": 3}
    assert counts["per_session"] == [{"value": "r1", "count": 4}]
    assert {r["value"]: r["count"] for r in counts["per_person"]} == {
        owner.member.subject_id: 4, colleague.member.subject_id: 3}
    assert all("label" not in r for r in counts["per_person"])  # no emails or app ids are stored
    assert counts["retention"] == {"days": 365, "months": None, "default": True, "memories_older": 2}
    assert counts["agents"] == 2 and counts["sessions"] == 1
    assert counts["people_paused"] == 1
    assert counts["erasures_last_day"]["total"] == 1
    assert reports["sports_brand_portal"].counts["memories"] == 5
    # A retried run of the same night (a worker died) writes nothing twice.
    assert nightly_audit_run(scheduled_for=NIGHT) == audited
    assert TenantAuditReport.objects.count() == 2


def test_the_task_is_a_periodic_task_at_three(audited):
    schedules = {(p.task.name, p.cron) for p in app.periodic_registry.periodic_tasks.values()}
    assert ("staff.nightly_audit", "0 3 * * *") in schedules
    assert ("queue.retry_stalled", "* * * * * */15") in schedules
    assert nightly_audit_task.queue == "maintenance" and nightly_audit_task.queueing_lock == "staff.nightly_audit"
    nightly_audit_run(scheduled_for=NIGHT + timedelta(days=1))  # the next night
    assert TenantAuditReport.objects.count() == 4


def test_staff_see_the_latest_report_and_download_it(client, staff, audited):
    report = next(r for r in audited if r.tenant.slug == "concierge_app")
    client.force_login(staff.user)
    page = client.get("/staff/concierge_app/").content.decode()
    assert 'data-testid="nightly-audit"' in page and "7 memories of 2 people" in page
    url = f"/staff/concierge_app/audit-reports/{report.pk}/download/"
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    body = json.loads(response.content)
    assert body["report_id"] == str(report.pk) and body["memories"] == 7
    look = AccessRecord.objects.filter(filters__audit_report=str(report.pk)).get()
    assert sorted(look.subject_ids) == sorted(r["value"] for r in report.counts["per_person"])


def test_no_one_else_reaches_a_report(client, staff, sports_staff, owner, audited):
    concierge = next(r for r in audited if r.tenant.slug == "concierge_app")
    sports = next(r for r in audited if r.tenant.slug == "sports_brand_portal")
    client.force_login(sports_staff.user)
    assert client.get(f"/staff/concierge_app/audit-reports/{concierge.pk}/download/").status_code == 404
    client.force_login(staff.user)  # another tenant's report through one's own tenant: 404 alike
    assert client.get(f"/staff/concierge_app/audit-reports/{sports.pk}/download/").status_code == 404
    client.force_login(owner.user)  # a member: no staff area at all
    assert client.get(f"/staff/concierge_app/audit-reports/{concierge.pk}/download/").status_code == 403
    client.force_login(person("root", "concierge_app", superuser=True).user)
    assert client.get(f"/staff/concierge_app/audit-reports/{concierge.pk}/download/").status_code == 200


def test_a_stored_report_keeps_the_largest_lists_and_exact_totals(owner, colleague, monkeypatch):
    monkeypatch.setattr("memportal.staff.audit.STORED_TOP", 1)
    bulk_memories(member=owner.member, count=2, agent_id="travel", run_id="r1")
    bulk_memories(member=colleague.member, count=3, agent_id="food", run_id="r2")
    counts = nightly_audit_run(scheduled_for=NIGHT)[0].counts
    assert counts["people"] == 2 and counts["agents"] == 2 and counts["sessions"] == 2
    assert counts["per_person"] == [{"value": colleague.member.subject_id, "count": 3, "member": True}]
    assert counts["per_session"] == [{"value": "r2", "count": 3}] and counts["lists_cut_to"] == 1


def test_the_tenant_auto_delete_default_is_the_audits_retention(owner):
    owner.member.tenant.__class__.objects.filter(pk=owner.member.tenant_id).update(retention_months=3)
    bulk_memories(member=owner.member, count=1)
    counts = nightly_audit_run(scheduled_for=NIGHT)[0].counts
    assert counts["retention"]["months"] == 3 and 89 <= counts["retention"]["days"] <= 92
    assert counts["retention"]["default"] is False
