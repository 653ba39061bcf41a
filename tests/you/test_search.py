from django.urls import reverse

from tests.you.conftest import remember


def test_it_finds_by_meaning_and_ranks(alice_client, owner):
    remember(owner, "I am vegetarian and never eat meat")
    remember(owner, "My car is a blue hatchback")
    response = alice_client.get(reverse("you:search"), {"q": "food preferences"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "vegetarian" in body
    if "blue hatchback" in body:
        assert body.index("vegetarian") < body.index("blue hatchback")


def test_it_searches_only_own_memories(alice_client, alice_memory, bob_memory, jane_memory):
    body = alice_client.get(reverse("you:search"), {"q": "steak marathons food"}).content.decode()
    assert "Bob loves steak" not in body
    assert "Jane runs marathons" not in body


def test_it_returns_a_fragment_to_htmx(alice_client, alice_memory):
    response = alice_client.get(reverse("you:search"), {"q": "vegetarian"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Alice is vegetarian" in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_it_works_without_javascript(alice_client, alice_memory):
    body = alice_client.get(reverse("you:search"), {"q": "vegetarian"}).content.decode()
    assert "<html" in body and 'method="get"' in body and "Alice is vegetarian" in body


def test_it_uses_a_debounced_htmx_trigger(alice_client):
    body = alice_client.get(reverse("you:search")).content.decode()
    assert 'hx-trigger="submit, input changed delay:400ms from:#q' in body


def test_it_shows_the_filter_and_offers_to_broaden_when_nothing_matches(alice_client, owner):
    remember(owner, "Alice is vegetarian", agent_id="concierge", run_id="s1")
    remember(owner, "Alice likes jazz", agent_id="music", run_id="m1")
    body = alice_client.get(reverse("you:search"), {"q": "vegetarian", "agent": "ghost", "session": "zz"}
                            ).content.decode()
    assert "Nothing matched" in body
    assert "agent = <strong>ghost</strong>" in body and "session = <strong>zz</strong>" in body
    assert "Search all agents" in body and "Search all sessions" in body
    assert "Search everything (no filters)" in body


def test_it_rejects_a_wildcard_agent(alice_client, alice_memory, bob_memory):
    response = alice_client.get(reverse("you:search"), {"q": "steak", "agent": "*"})
    assert response.status_code == 400
    assert "Bob loves steak" not in response.content.decode()


def test_it_shows_match_strength_as_words_not_numbers(alice_client, owner):
    remember(owner, "I like window seats on long flights")
    body = alice_client.get(reverse("you:search"), {"q": "seats"}).content.decode()
    assert "window seats" in body and "strong match" in body
    assert "match 0." not in body and 'class="score"' not in body


def test_it_does_not_show_unrelated_memories_as_results(alice_client, owner):
    # The case: "seats" listed "I am vegetarian" (0.14) and the football team (0.12).
    remember(owner, "I am vegetarian")
    remember(owner, "My favourite football team is Benfica")
    body = alice_client.get(reverse("you:search"), {"q": "seats"}).content.decode()
    assert "Nothing matched" in body
    assert "I am vegetarian" not in body and "Benfica" not in body
