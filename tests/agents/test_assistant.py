"""/assistant/: recalls within the agent's scope, shows it, stores the turn; says plainly when offline."""

from __future__ import annotations

import pytest

from memportal.memory import selectors, services
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _turn(client, message: str, agent: str = "travel_planner", run_id: str = "trip-1"):
    return client.post("/assistant/turn/", {"agent": agent, "run_id": run_id, "message": message},
                       headers={"HX-Request": "true"})


@pytest.fixture
def signed_in(client, owner, settings):
    settings.MEMPORTAL = {**settings.MEMPORTAL, "LLM": ""}
    client.login(username=owner.user.username, password=PASSWORD)
    return owner


def test_it_says_it_runs_offline(client, signed_in):
    page = client.get("/assistant/?agent=travel_planner&run=trip-1")
    assert page.status_code == 200
    assert "Offline mode" in page.content.decode()


def test_a_new_session_gets_a_fresh_run_id(client, signed_in):
    response = client.get("/assistant/?agent=chef_recommender")
    assert response.status_code == 302 and "run=chat-" in response.url


def test_a_turn_is_stored_and_recalled_next_turn(client, signed_in):
    first = _turn(client, "I love window seats on long flights")
    assert "Nothing relevant remembered yet" in first.content.decode()
    stored = selectors.memory_list(member=signed_in.member, agent_id="travel_planner", run_id="trip-1").items
    assert [m.text for m in stored] == ["I love window seats on long flights"]
    second = _turn(client, "Which seats do I like on flights?").content.decode()
    assert "I love window seats on long flights" in second
    assert "not AI" in second


def test_it_recalls_only_in_the_chosen_agents_scope(client, signed_in, colleague):
    services.memory_add(member=signed_in.member, messages="I prefer sushi", agent_id="chef_recommender")
    services.memory_add(member=colleague.member, messages="I prefer sushi bars", agent_id="travel_planner")
    html = _turn(client, "Do I prefer sushi?", agent="travel_planner").content.decode()
    assert "I prefer sushi" not in html.split("Recalled", 1)[1].split("Stored")[0]


def test_paused_memory_stores_nothing(client, signed_in):
    services.memory_pause_set(member=signed_in.member, paused=True)
    html = _turn(client, "Remember this").content.decode()
    assert "was not stored" in html
    assert selectors.memory_count(member=signed_in.member) == 0


def test_it_needs_sign_in(client):
    assert client.get("/assistant/").status_code == 302
    assert client.post("/assistant/turn/", {}).status_code == 302


def test_with_a_language_model_the_reply_is_the_models_and_the_turn_is_inferred(client, owner, fake_llm):
    client.login(username=owner.user.username, password=PASSWORD)
    _turn(client, "I live in Berlin")
    page = _turn(client, "I live in Paris").content.decode()
    assert "Noted." in page  # the scripted model's reply
    stored = selectors.memory_list(member=owner.member, agent_id="travel_planner").items
    assert [m.text for m in stored] == ["I live in Paris"]  # the model's UPDATE, not a second memory
    fake_llm.fail = True
    assert _turn(client, "I like jazz").status_code == 200  # the page says so; nothing stored
    assert len(selectors.memory_list(member=owner.member, agent_id="travel_planner").items) == 1


def test_offline_it_stores_statements_but_never_questions_or_requests(client, signed_in):
    html = _turn(client, "Can you suggest a dinner place tonight?").content.decode()
    assert "Stored 0 memories" in html and "Questions and requests" in html
    _turn(client, "I am vegetarian. Could you book a table for two?")
    stored = selectors.memory_list(member=signed_in.member, agent_id="travel_planner", run_id="trip-1").items
    assert [m.text for m in stored] == ["I am vegetarian."]


def test_without_javascript_the_form_post_shows_the_reply_once(client, signed_in):
    response = client.post("/assistant/turn/", {"agent": "travel_planner", "run_id": "trip-1",
                                                "message": "I love window seats"})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert 'data-testid="last-turn"' in page and "I love window seats" in page and "Stored 1 memory" in page
    assert 'data-testid="last-turn"' not in client.get(response.url).content.decode()  # a reload: gone
