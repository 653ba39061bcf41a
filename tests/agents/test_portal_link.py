"""POST /api/v1/portal-sessions, then /portal/<token>/: signs in exactly its person, once, briefly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from memportal.agents.models import PortalToken
from memportal.memory.models import Membership
from memportal.memory.tenancy import access_membership_for_external
from tests.factories import tenant


def _link(client, key: str, user_id: str = "alice") -> str:
    response = client.post("/api/v1/portal-sessions", {"user_id": user_id}, content_type="application/json",
                           headers={"Authorization": f"Token {key}"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["expires_at"]
    return data["url"].removeprefix("http://testserver")


@pytest.mark.django_db
def test_it_signs_in_exactly_its_person(client, concierge_key, colleague):
    alice = access_membership_for_external(tenant=tenant("concierge_app"), external_id="alice", create=True)
    url = _link(client, concierge_key)
    response = client.get(url)
    assert response.status_code == 302 and response.url == "/you/"
    alice.refresh_from_db()
    assert alice.user is not None and not alice.user.has_usable_password() and alice.user.email == ""
    assert int(client.session["_auth_user_id"]) == alice.user.pk
    assert alice.user.pk != colleague.user.pk


@pytest.mark.django_db
def test_it_works_only_once(client, concierge_key):
    url = _link(client, concierge_key)
    assert client.get(url).status_code == 302
    client.logout()
    assert client.get(url).status_code == 410
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_expires(client, concierge_key):
    url = _link(client, concierge_key)
    PortalToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(url).status_code == 410
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_reuses_the_linked_user_on_the_next_link(client, concierge_key):
    client.get(_link(client, concierge_key))
    client.logout()
    client.get(_link(client, concierge_key))
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
