"""memory_add's infer=False writer stores exactly what mem0's own add loop stores, only faster."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from memportal.memory import selectors, services
from memportal.memory.embedding import shared_encoder
from memportal.memory.errors import InvalidInput, MembershipEnded, MemoryPaused
from memportal.memory.models import Membership, MemoryEvent, MemoryMessage

MESSAGES = [
    {"role": "system", "content": "You are a concierge."},
    {"role": "user", "content": "I prefer green tea in the morning."},
    {"role": "assistant", "content": "Noted: green tea.", "name": "concierge_bot"},
]
VOLATILE = {"created_at", "updated_at"}


def _rows(memory_ids: list[str]) -> list[tuple[dict, str]]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT payload, vector::text FROM memportal_memories WHERE id = ANY(%s::uuid[]) "
            "ORDER BY payload->>'created_at'",
            [memory_ids],
        )
        return [(json.loads(p) if isinstance(p, str) else p, v) for p, v in cur.fetchall()]


def _history(memory_id: str) -> list[dict]:
    return list(
        MemoryEvent.objects.filter(memory_id=memory_id).values(
            "event", "old_memory", "new_memory", "actor_id", "role", "is_deleted", "created_at", "updated_at"
        )
    )


def _add(member: Membership, mode: str) -> list:
    with override_settings(MEMPORTAL={**settings.MEMPORTAL, "INGEST": mode}):
        return services.memory_add(
            member=member, messages=MESSAGES, agent_id="concierge", run_id="s1", metadata={"source": "chat"}
        )


@pytest.mark.django_db
def test_the_fast_path_writes_the_same_rows_as_mem0(owner):
    fast = _add(owner.member, "fast")
    mem0 = _add(owner.member, "mem0")

    assert [r.text for r in fast] == [r.text for r in mem0] == [m["content"] for m in MESSAGES[1:]]
    fast_rows, mem0_rows = _rows([r.id for r in fast]), _rows([r.id for r in mem0])
    assert len(fast_rows) == len(mem0_rows) == 2
    for (fast_payload, fast_vector), (mem0_payload, mem0_vector) in zip(fast_rows, mem0_rows, strict=True):
        assert set(fast_payload) == set(mem0_payload)
        assert {k: v for k, v in fast_payload.items() if k not in VOLATILE} == {
            k: v for k, v in mem0_payload.items() if k not in VOLATILE
        }
        assert fast_payload["created_at"] == fast_payload["updated_at"]
        assert fast_vector == mem0_vector  # bit for bit: same embedder, float32 on both paths
    for f, m in zip(fast, mem0, strict=True):
        [fast_event], [mem0_event] = _history(f.id), _history(m.id)
        assert {k: v for k, v in fast_event.items() if k not in VOLATILE} == {
            k: v for k, v in mem0_event.items() if k not in VOLATILE
        }
        assert fast_event["created_at"] == _rows([f.id])[0][0]["created_at"]
    # mem0 keeps raw messages only when it infers; neither path writes any for infer=False.
    assert MemoryMessage.objects.filter(subject_id=owner.member.subject_id).count() == 0


@pytest.mark.django_db
def test_the_fast_path_returns_what_the_store_reads_back(owner):
    added = services.memory_add(member=owner.member, messages=MESSAGES, agent_id="concierge", run_id="s1")
    again = selectors.memory_get_many(member=owner.member, memory_ids=[r.id for r in added])
    assert added == again
    assert [r.role for r in added] == ["user", "assistant"]
    assert added[1].metadata == {} and _rows([added[1].id])[0][0]["actor_id"] == "concierge_bot"


@pytest.mark.django_db
def test_memories_of_one_call_list_in_message_order(owner):
    texts = [f"fact number {i}" for i in range(12)]
    services.memory_add(member=owner.member, messages=[{"role": "user", "content": t} for t in texts])
    newest_first = [r.text for r in selectors.memory_list(member=owner.member, page_size=50).items]
    assert newest_first == texts[::-1]


@pytest.mark.django_db
def test_a_paused_or_ended_membership_gets_nothing_stored(owner, colleague):
    services.memory_pause_set(member=owner.member, paused=True)
    with pytest.raises(MemoryPaused):
        services.memory_add(member=owner.member, messages="I moved to Paris")
    Membership.objects.filter(pk=colleague.member.pk).update(ended_at="2026-01-01T00:00:00Z")
    with pytest.raises(MembershipEnded):
        services.memory_add_many(member=colleague.member, messages="I moved to Rome")
    assert selectors.memory_count(member=owner.member) == 0
    assert selectors.memory_count(member=colleague.member) == 0


@pytest.mark.django_db
def test_the_mem0_path_embeds_a_call_in_one_batched_encoder_call(owner, monkeypatch):
    encoder = shared_encoder()
    calls: list[int] = []
    original = encoder.encode

    def counting(texts):
        calls.append(len(texts))
        return original(texts)

    monkeypatch.setattr(encoder, "encode", counting)
    messages = [{"role": "user", "content": f"memory {i}"} for i in range(10)]
    with override_settings(MEMPORTAL={**settings.MEMPORTAL, "INGEST": "mem0"}):
        added = services.memory_add(member=owner.member, messages=messages)
    assert len(added) == 10
    assert calls == [10]


@pytest.mark.django_db
def test_memory_add_many_imports_more_than_one_add_allows(owner, stranger):
    cap = settings.MEMPORTAL["MAX_MESSAGES_PER_ADD"]
    messages = [{"role": "user", "content": f"imported fact {i}"} for i in range(cap * 2 + 7)]
    added = services.memory_add_many(member=owner.member, messages=messages, agent_id="importer")
    assert [r.text for r in added] == [m["content"] for m in messages]
    assert selectors.memory_count(member=owner.member) == len(messages)
    assert selectors.memory_count(member=stranger.member) == 0
    assert MemoryEvent.objects.filter(memory_id__in=[r.id for r in added], event="ADD").count() == len(messages)


@pytest.mark.django_db
def test_memory_add_many_is_all_or_nothing_and_names_the_bad_message(owner):
    messages = [{"role": "user", "content": f"fact {i}"} for i in range(120)]
    messages[117] = {"role": "user", "content": "x", "user_id": "someone_else"}
    with pytest.raises(InvalidInput) as exc:
        services.memory_add_many(member=owner.member, messages=messages)
    assert exc.value.field == "messages[117]"
    assert selectors.memory_count(member=owner.member) == 0


@pytest.mark.django_db
def test_memory_add_many_checks_system_messages_too(owner):
    cap = settings.MEMPORTAL["MAX_MESSAGES_PER_ADD"]
    messages = [{"role": "system", "content": "ok"} for _ in range(cap * 2)] + [{"role": "user", "content": "hi"}]
    assert [r.text for r in services.memory_add_many(member=owner.member, messages=messages)] == ["hi"]
    messages[3] = {"role": "system", "content": ["not", "text"]}
    with pytest.raises(InvalidInput) as exc:
        services.memory_add_many(member=owner.member, messages=messages)
    assert exc.value.field.startswith("messages[3]")
    with pytest.raises(InvalidInput):
        services.memory_add_many(member=owner.member, messages=[{"role": "system", "content": "only"}])


@pytest.mark.django_db
def test_memory_add_many_refuses_more_than_its_limit(owner):
    with override_settings(MEMPORTAL={**settings.MEMPORTAL, "MAX_MESSAGES_PER_IMPORT": 5}), pytest.raises(InvalidInput):
        services.memory_add_many(member=owner.member, messages=["a", "b", "c", "d", "e", "f"])
    assert selectors.memory_count(member=owner.member) == 0
