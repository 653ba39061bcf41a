import json

from django.http import StreamingHttpResponse
from django.urls import reverse

from memportal.memory import services
from tests.you.conftest import remember


def _download(client) -> tuple[StreamingHttpResponse, dict]:
    response = client.get(reverse("you:export"))
    return response, json.loads(b"".join(response.streaming_content))


def test_it_streams_every_memory_with_all_fields_and_history(alice_client, owner):
    first = remember(owner, "Alice is vegetarian", agent_id="concierge", run_id="s1")
    remember(owner, "Alice likes jazz", agent_id="music", run_id="m1")
    services.memory_update(member=owner.member, memory_id=first.id, text="Alice is vegan")
    response, data = _download(alice_client)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith("attachment;")
    assert data["tenant"]["app_id"] == "concierge_app"
    by_text = {m["memory"]: m for m in data["memories"]}
    assert set(by_text) == {"Alice is vegan", "Alice likes jazz"}
    vegan = by_text["Alice is vegan"]
    assert vegan["agent"] == "concierge" and vegan["session"] == "s1" and vegan["tenant"] == "concierge_app"
    assert vegan["created_at"] and vegan["updated_at"]
    assert [h["event"] for h in vegan["history"]] == ["ADD", "UPDATE"]
    assert vegan["history"][1]["old_text"] == "Alice is vegetarian"


def test_it_holds_nothing_of_other_people(alice_client, alice_memory, bob_memory, jane_memory):
    _, data = _download(alice_client)
    text = json.dumps(data)
    assert "Bob loves steak" not in text and "Jane runs marathons" not in text
    assert len(data["memories"]) == 1


def test_it_is_valid_json_when_empty(alice_client, owner):
    _, data = _download(alice_client)
    assert data["memories"] == []


def test_it_streams_in_batches_across_many_memories(owner):
    from memportal.you.selectors import export_chunks

    for i in range(7):
        remember(owner, f"fact {i}")
    chunks = list(export_chunks(member=owner.member, batch_size=3))
    assert len(chunks) == 1 + 7 + 1
    assert len(json.loads("".join(chunks))["memories"]) == 7
