"""POST /api/v1/portal-sessions, then /portal/<token>/: a page that names the app and the person,
and only its Continue button (a CSRF-protected POST) signs in exactly its person, once, briefly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from memportal.agents.models import AppKey, PortalToken
from memportal.memory.models import Membership
from memportal.memory.tenancy import membership_for_external
from tests.factories import PASSWORD, tenant


def _link(client, key: str, user_id: str = "alice") -> str:
    response = client.post("/api/v1/portal-sessions", {"user_id": user_id}, content_type="application/json",
                           headers={"Authorization": f"Token {key}"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["expires_at"]
    return data["url"].removeprefix("http://testserver")


def _continue(client, url: str, **data):
    return client.post(url, data)


@pytest.mark.django_db
def test_it_signs_in_exactly_its_person_after_continue(client, concierge_key, colleague):
    alice = membership_for_external(tenant=tenant("concierge_app"), external_id="alice", create=True)
    url = _link(client, concierge_key)
    response = _continue(client, url)
    assert response.status_code == 302 and response.url == "/you/"
    alice.refresh_from_db()
    assert alice.user is not None and not alice.user.has_usable_password() and alice.user.email == ""
    assert int(client.session["_auth_user_id"]) == alice.user.pk
    assert alice.user.pk != colleague.user.pk


@pytest.mark.django_db
def test_opening_a_link_names_the_app_and_person_and_signs_in_nobody(client, concierge_key):
    url = _link(client, concierge_key)
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200 and "Concierge App" in body and "alice" in body
    assert 'method="post"' in body and "csrfmiddlewaretoken" in body
    assert "_auth_user_id" not in client.session
    assert PortalToken.objects.get().used_at is None  # looking does not spend the link
    assert response["Referrer-Policy"] == "same-origin"  # the token never leaves the site


@pytest.mark.django_db
def test_continue_needs_a_csrf_token(concierge_key):
    strict = Client(enforce_csrf_checks=True)
    url = _link(strict, concierge_key)
    assert strict.post(url).status_code == 403
    assert "_auth_user_id" not in strict.session


@pytest.mark.django_db
def test_it_does_not_silently_switch_someone_signed_in(client, owner, sports_key):
    """Login CSRF: a tenant B link opened by a signed-in tenant A person must not switch them."""
    assert client.login(username=owner.user.username, password=PASSWORD)
    url = _link(client, sports_key, user_id="victim-b")
    page = client.get(url).content.decode()
    assert "You are signed in as" in page and owner.email in page
    # A bare POST (a cross-site form would lack sign_out) leaves them signed in as themselves.
    response = client.post(url)
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == owner.user.pk
    assert PortalToken.objects.get().used_at is None
    # Only the explicit "sign out and continue" switches, after signing them out.
    response = client.post(url, {"sign_out": "1"})
    member = Membership.objects.get(external_id="victim-b")
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == member.user_id


@pytest.mark.django_db
def test_it_works_only_once(client, concierge_key):
    url = _link(client, concierge_key)
    assert _continue(client, url).status_code == 302
    client.logout()
    assert client.get(url).status_code == 410
    assert _continue(client, url).status_code == 410
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_expires(client, concierge_key):
    url = _link(client, concierge_key)
    PortalToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(url).status_code == 410
    assert _continue(client, url).status_code == 410
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_stops_working_when_its_key_is_revoked(client, concierge_key):
    url = _link(client, concierge_key)
    AppKey.objects.update(revoked_at=timezone.now())
    assert client.get(url).status_code == 410
    assert _continue(client, url).status_code == 410
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_reuses_the_linked_user_on_the_next_link(client, concierge_key):
    _continue(client, _link(client, concierge_key))
    client.logout()
    _continue(client, _link(client, concierge_key))
    member = Membership.objects.get(external_id="alice")
    assert int(client.session["_auth_user_id"]) == member.user_id
    assert Membership.objects.filter(external_id="alice").count() == 1


@pytest.mark.django_db
def test_it_stores_only_a_hash_of_the_token(client, concierge_key):
    url = _link(client, concierge_key)
    raw = url.rstrip("/").rsplit("/", 1)[1]
    assert not PortalToken.objects.filter(token_hash=raw).exists()
    assert PortalToken.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_tampered_token(client, concierge_key):
    url = _link(client, concierge_key)
    assert client.get(url[:-3] + "xx/").status_code == 410


@pytest.mark.django_db
def test_it_needs_a_key(client):
    response = client.post("/api/v1/portal-sessions", {"user_id": "alice"}, content_type="application/json")
    assert response.status_code == 401
