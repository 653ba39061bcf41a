"""The API's search: the same hybrid ranking and relevance floor as the person's page, a numeric
cosine ``score`` as the platform returns, and the platform's ``threshold`` honoured."""

from __future__ import annotations

import pytest

from memportal.memory import ranking
from memportal.memory.services import memory_add
from memportal.memory.tenancy import membership_for_external
from tests.factories import tenant


def _post(client, key, path, body):
    return client.post(path, body, content_type="application/json", headers={"Authorization": f"Token {key}"})


@pytest.fixture
def seeded(client, concierge_key, sports_key):
    for text in ("I am vegetarian", "My favourite football team is Benfica", "I like window seats on long flights"):
        response = _post(client, concierge_key, "/v3/memories/add/", {"messages": text, "user_id": "alice"})
        assert response.status_code < 300
    assert _post(client, concierge_key, "/v3/memories/add/",
                 {"messages": "My zanzibar flat has an aisle seat", "user_id": "bob"}).status_code < 300
    assert _post(client, sports_key, "/v3/memories/add/",
                 {"messages": "Zanzibar season ticket seat", "user_id": "alice"}).status_code < 300


def _search(client, key, body):
    response = _post(client, key, "/v3/memories/search/", body)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_search_applies_the_floor_and_ranks_a_typed_word_first(client, concierge_key, seeded):
    results = _search(client, concierge_key, {"query": "seats", "filters": {"user_id": "alice"}})
    assert [r["memory"] for r in results] == ["I like window seats on long flights"]
    assert isinstance(results[0]["score"], float) and 0 < results[0]["score"] <= 1


def test_a_threshold_replaces_the_floor(client, concierge_key, seeded):
    everything = _search(client, concierge_key, {"query": "seats", "threshold": 0, "filters": {"user_id": "alice"}})
    assert len(everything) == 3
    strict = _search(client, concierge_key, {"query": "seats", "threshold": 0.99, "filters": {"user_id": "alice"}})
    assert all(r["score"] >= 0.99 for r in strict)


def test_the_keyword_path_stays_inside_the_person_and_the_tenant(client, concierge_key, seeded):
    for body in ({"query": "zanzibar", "filters": {"user_id": "alice"}},
                 {"query": "zanzibar", "threshold": 0, "filters": {"user_id": "alice"}},
                 {"query": "zanzibar & seat | !x", "threshold": 0, "filters": {"user_id": "alice"}}):
        assert all("anzibar" not in r["memory"] for r in _search(client, concierge_key, body))
    # Everyone the app named ("*"): bob's memory, never the other tenant's alice.
    found = _search(client, concierge_key, {"query": "zanzibar", "filters": {"user_id": "*"}})
    assert [r["memory"] for r in found] == ["My zanzibar flat has an aisle seat"]


def test_the_person_page_and_the_api_return_the_same_ranking(client, concierge_key, seeded):
    from memportal.memory import selectors

    member = membership_for_external(tenant=tenant("concierge_app"), external_id="alice", create=False)
    memory_add(member=member, messages="I always book an aisle seat on short trips")
    api = _search(client, concierge_key, {"query": "seat", "filters": {"user_id": "alice"}})
    page = selectors.memory_search(member=member, query="seat")
    assert [r["id"] for r in api] == [r.id for r in page]
    assert {r.match for r in page} <= {ranking.STRONG, ranking.WEAK}
