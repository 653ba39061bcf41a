"""memportal.memory.bulk writes the same rows as memory_add, only into the memberships it is given."""

from __future__ import annotations

import pytest
from django.db import connection

from memportal.memory.bulk import BulkMemory, memory_bulk_load
from memportal.memory.embedding import shared_encoder
from memportal.memory.errors import InvalidInput
from memportal.memory.models import MemoryEvent
from memportal.memory.selectors import memory_search
from memportal.memory.services import memory_add


def _payload(memory_id: str) -> dict:
    import json

    with connection.cursor() as cur:
        cur.execute("SELECT payload FROM memportal_memories WHERE id = %s", [memory_id])
        value = cur.fetchone()[0]
    return json.loads(value) if isinstance(value, str) else value


@pytest.mark.django_db(transaction=True)
def test_it_writes_the_same_payload_keys_and_history_as_memory_add(owner):
    text = "I prefer green tea in the morning."
    vec = shared_encoder().encode([text])[0]
    [bulk_id] = memory_bulk_load(
        items=[BulkMemory(member=owner.member, text=text, vector=vec, agent_id="concierge", run_id="s1")],
        members=[owner.member],
    )
    [added] = memory_add(
        member=owner.member, messages=[{"role": "user", "content": text}], agent_id="concierge", run_id="s1"
    )
    bulk, service = _payload(bulk_id), _payload(added.id)
    assert set(bulk) == set(service)
    for key in ("app_id", "user_id", "agent_id", "run_id", "role", "data", "hash"):
        assert bulk[key] == service[key]
    assert MemoryEvent.objects.filter(memory_id=bulk_id, event="ADD", new_memory=text).count() == 1
    hits = memory_search(member=owner.member, query="what do I drink in the morning", limit=5)
    assert bulk_id in [h.id for h in hits]


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_membership_it_was_not_given(owner, stranger):
    vec = shared_encoder().encode(["x"])[0]
    with pytest.raises(InvalidInput):
        memory_bulk_load(items=[BulkMemory(member=stranger.member, text="x", vector=vec)], members=[owner.member])
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM memportal_memories WHERE payload->>'user_id' = %s", [stranger.member.subject_id]
        )
        assert cur.fetchone()[0] == 0
