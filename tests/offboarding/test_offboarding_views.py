"""The offboarding pages: superusers only, dry run, re-authentication, typed app_id, live progress."""

from __future__ import annotations

import pytest

from memportal.offboarding.models import OffboardingJob
from tests.factories import PASSWORD
from tests.queue import run_one_job
from tests.staff.bulk import bulk_memories, table_count

pytestmark = pytest.mark.django_db


def _sign_in(client, who) -> None:
    """Sign in, then re-enter the password on allauth's reauthenticate page (what the button asks)."""
    client.force_login(who.user)
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content[:500]


def test_only_superusers_may_open_offboarding_pages(client, staff, owner):
    job = OffboardingJob.objects.create(tenant=owner.member.tenant)
    for who in (staff, owner):
        client.force_login(who.user)
        for url in ("/offboarding/", "/offboarding/tenants/concierge_app/",
                    "/offboarding/tenants/concierge_app/confirm/", f"/offboarding/jobs/{job.pk}/",
                    f"/offboarding/jobs/{job.pk}/progress/"):
            assert client.get(url).status_code == 403, url
        assert client.post("/offboarding/tenants/concierge_app/start/",
                           {"confirm": "concierge_app", "memberships": "end"}).status_code == 403


def test_the_dry_run_shows_counts(client, admin_person, owner):
    bulk_memories(member=owner.member, count=42)
    client.force_login(admin_person.user)
    body = client.get("/offboarding/tenants/concierge_app/").content.decode()
    assert "<dt>Memories</dt><dd>42</dd>" in body


def test_starting_requires_recent_reauthentication(client, admin_person, owner):
    client.force_login(admin_person.user)  # a session without a recorded password authentication
    response = client.post("/offboarding/tenants/concierge_app/start/",
                           {"confirm": "concierge_app", "memberships": "end"})
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    assert not OffboardingJob.objects.exists()
    # After re-entering the password nothing is replayed: the admin sees the confirmation again.
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/offboarding/tenants/concierge_app/confirm/"
    assert not OffboardingJob.objects.exists()


def test_starting_requires_typing_the_app_id(client, admin_person, owner):
    bulk_memories(member=owner.member, count=10)
    _sign_in(client, admin_person)
    for typed in ("", "sports_brand_portal", "concierge_ap", "CONCIERGE_APP"):
        response = client.post("/offboarding/tenants/concierge_app/start/", {"confirm": typed, "memberships": "end"})
        assert response.status_code == 400, typed
    assert not OffboardingJob.objects.exists()
    assert table_count("payload->>'app_id' = 'concierge_app'") == 10


def test_a_confirmed_start_queues_one_job_and_the_page_polls_until_done(client, admin_person, owner):
    bulk_memories(member=owner.member, count=25)
    _sign_in(client, admin_person)
    response = client.post("/offboarding/tenants/concierge_app/start/",
                           {"confirm": "concierge_app", "memberships": "end"})
    job = OffboardingJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/offboarding/jobs/{job.pk}/"
    assert job.requested_by == admin_person.user and job.via == "admin"
    # a second start (double click) does not queue a second job
    client.post("/offboarding/tenants/concierge_app/start/", {"confirm": "concierge_app", "memberships": "end"})
    assert OffboardingJob.objects.count() == 1

    page = client.get(f"/offboarding/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and '<progress id="offboarding-bar" max="100" value="0">' in page
    assert "style=" not in page
    run_one_job()
    partial = client.get(f"/offboarding/jobs/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in partial and 'value="100"' in partial and 'data-testid="receipt"' in partial
    assert table_count("payload->>'app_id' = 'concierge_app'") == 0
