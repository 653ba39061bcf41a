""""What would the agent see?": the person sees exactly what an app's API search returns for them."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from memportal.agents.models import KeyRead
from memportal.agents.services import appkey_create
from memportal.memory.models import Membership
from tests.factories import person, tenant
from tests.you.conftest import remember


def known_to_app(member: Membership, external_id: str) -> None:
    """The app's server knows the person by its own id (as when it wrote about them via the API)."""
    Membership.objects.filter(pk=member.pk).update(external_id=external_id)
    member.external_id = external_id


@pytest.fixture
def alice_known(owner):
    known_to_app(owner.member, "alice-ext")
    for text in ("Alice is vegetarian", "Alice prefers window seats", "Alice supports Benfica"):
        remember(owner, text)
    return owner


def test_it_shows_what_the_api_search_returns_in_the_same_order(alice_client, alice_known, colleague):
    known_to_app(colleague.member, "bob-ext")
    remember(colleague, "Bob prefers aisle seats")
    raw = appkey_create(tenant=tenant("concierge_app"), name="concierge reader", permissions=("read",))[1]
    api = Client().post("/v1/memories/search/", json.dumps({"query": "seats", "user_id": "alice-ext"}),
                        content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.status_code == 200, api.content
    expected = [m["memory"] for m in api.json()["results"]]
    KeyRead.objects.all().delete()

    response = alice_client.get(reverse("you:agent_view"), {"q": "seats"})
    assert response.status_code == 200
    shown = [m.text for m in response.context["results"]]
    assert shown == expected and shown[0] == "Alice prefers window seats"
    assert "Bob prefers aisle seats" not in response.content.decode()
    assert not KeyRead.objects.exists()  # the person looking is not recorded as the app reading


def test_each_result_links_correct_and_delete(alice_client, alice_known):
    response = alice_client.get(reverse("you:agent_view"), {"q": "vegetarian"})
    first = response.context["results"][0]
    body = response.content.decode()
    assert reverse("you:edit", args=[first.id]) in body and reverse("you:delete", args=[first.id]) in body


def test_a_person_the_app_does_not_know_gets_nothing_and_is_told_why(alice_client, owner):
    remember(owner, "Alice is vegetarian")
    response = alice_client.get(reverse("you:agent_view"), {"q": "vegetarian"})
    assert response.status_code == 200 and response.context["results"] == []
    assert 'data-testid="app-does-not-know-you"' in response.content.decode()


def test_it_searches_the_chosen_app_of_the_person(alice_client, alice_known):
    other = person("alice", "sports_brand_portal")
    known_to_app(other.member, "alice-sports")
    remember(other, "Alice runs on Sundays")
    response = alice_client.get(reverse("you:agent_view"), {"q": "running", "app": "sports_brand_portal"})
    assert [m.text for m in response.context["results"]][0] == "Alice runs on Sundays"
    assert all("Benfica" not in m.text for m in response.context["results"])


def test_an_app_the_person_is_not_in_is_a_404(alice_client, alice_known, stranger, jane_memory):
    response = alice_client.get(reverse("you:agent_view"), {"q": "marathons", "app": "sports_brand_portal"})
    assert response.status_code == 404
    assert alice_client.get(reverse("you:agent_view"), {"q": "x", "app": "nope"}).status_code == 404


def test_a_bad_query_is_a_clear_400(alice_client, alice_known):
    response = alice_client.get(reverse("you:agent_view"), {"q": "x" * 2001})
    assert response.status_code == 400 and "limit is 2000" in response.content.decode()


def test_it_needs_a_signed_in_person(client):
    assert client.get(reverse("you:agent_view")).status_code == 302
