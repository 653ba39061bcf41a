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


def test_it_includes_feedback_and_who_looked(alice_client, owner, staff, alice_memory):
    """docs/your-data.md documents these keys; a key read and a staff look are both in "access"."""
    from memportal.memory.models import MemoryFeedback
    from memportal.staff.services import access_record_write

    MemoryFeedback.objects.create(tenant=owner.member.tenant, memory_id=alice_memory.id,
                                  subject_id=owner.member.subject_id, rating="POSITIVE", reason="right",
                                  key_prefix="abcd")
    access_record_write(tenant=owner.member.tenant, actor=staff.user, action="view", flt={},
                        subject_ids=[owner.member.subject_id], memories_shown=1)
    data = json.loads(b"".join(alice_client.get(reverse("you:export")).streaming_content))
    assert data["memories"][0]["feedback"][0]["rating"] == "POSITIVE"
    assert data["memories"][0]["history"][0]["event"] == "ADD"
    assert data["access"]["staff"][0]["who"] == staff.email and data["access"]["app_reads"] == []
    assert data["retention_months"] == 0
