"""Re-authentication brings the admin back to the typed confirmation, never to a replayed POST."""

from __future__ import annotations

import pytest

from memportal.offboarding.models import OffboardingJob
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CONFIRM = "/offboarding/tenants/concierge_app/confirm/"
START = "/offboarding/tenants/concierge_app/start/"
REAUTH_THEN_CONFIRM = "/accounts/reauthenticate/?next=%2Foffboarding%2Ftenants%2Fconcierge_app%2Fconfirm%2F"


def test_the_dry_run_needs_no_password_and_links_to_the_confirmation(client, admin_person, owner):
    client.force_login(admin_person.user)
    body = client.get("/offboarding/tenants/concierge_app/").content.decode()
    assert 'data-testid="dry-run"' in body and f'href="{CONFIRM}"' in body
    assert 'name="confirm"' not in body  # the typed confirmation only comes after the password


def test_the_confirmation_page_asks_for_the_password_then_shows_the_form(client, admin_person, owner):
    client.force_login(admin_person.user)
    response = client.get(CONFIRM)
    assert response.status_code == 302
    assert response["Location"] == REAUTH_THEN_CONFIRM
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == CONFIRM
    page = client.get(CONFIRM)
    body = page.content.decode()
    assert page.status_code == 200 and 'name="confirm"' in body and f'action="{START}"' in body
    assert not OffboardingJob.objects.exists()


def test_a_wrong_password_starts_nothing_and_stays_on_the_password_page(client, admin_person, owner):
    client.force_login(admin_person.user)
    response = client.post(f"/accounts/reauthenticate/?next={CONFIRM}", {"password": "not-the-password"})
    assert response.status_code == 200 and b"Confirm it is you" in response.content
    assert client.get(CONFIRM).status_code == 302
    assert not OffboardingJob.objects.exists()


def test_a_post_without_recent_password_is_not_replayed_after_reauthentication(client, admin_person, owner):
    """allauth would store a POST that raised ReauthenticationRequired and replay it after the
    password; the start view redirects instead, so a mistyped app_id never shows up as errors
    under /accounts/reauthenticate/ and a correct one never starts unseen."""
    client.force_login(admin_person.user)
    for typed in ("concierge_ap", "concierge_app"):
        response = client.post(START, {"confirm": typed, "memberships": "end"})
        assert response.status_code == 302
        assert response["Location"] == REAUTH_THEN_CONFIRM
        assert "account_reauthentication_state" not in client.session  # nothing stored to replay
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == CONFIRM
    assert not OffboardingJob.objects.exists()


def test_after_the_password_the_typed_app_id_starts_the_job(client, admin_person, owner):
    client.force_login(admin_person.user)
    client.post(f"/accounts/reauthenticate/?next={CONFIRM}", {"password": PASSWORD})
    response = client.post(START, {"confirm": "concierge_app", "memberships": "end"})
    job = OffboardingJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/offboarding/jobs/{job.pk}/"
    assert job.requested_by == admin_person.user
