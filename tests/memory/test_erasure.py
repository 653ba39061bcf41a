"""Erasure leaves nothing behind: proven by looking in the database."""

from __future__ import annotations

from django.db import connection

from memportal.memory import selectors, services
from memportal.memory.models import MemoryEvent, MemoryMessage
from memportal.memory.records import TABLE

MARKER = "zebra-erasure-marker"


def _rows_with_text(text: str) -> dict[str, int]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE payload::text LIKE %s", [f"%{text}%"])
        vectors = cur.fetchone()[0]
    history = MemoryEvent.objects.filter(new_memory__contains=text).count() + MemoryEvent.objects.filter(
        old_memory__contains=text).count()
    messages = MemoryMessage.objects.filter(content__contains=text).count()
    return {"vectors": vectors, "history": history, "messages": messages}


def test_person_with_1200_memories_is_fully_erased(owner, colleague, stranger):
    services.memory_add(member=colleague.member, messages="colleague keeps this")
    services.memory_add(member=stranger.member, messages="stranger keeps this")
    for batch in range(24):
        services.memory_add(
            member=owner.member,
            messages=[{"role": "user", "content": f"{MARKER} fact {batch}-{i}"} for i in range(50)],
            agent_id="travel_planner" if batch % 2 else "chef_recommender",
            run_id=f"run-{batch % 5}",
        )
    # a correction and the raw-message table (written when an LLM extracts facts) hold text too
    first = selectors.memory_list(member=owner.member, page_size=1).items[0]
    services.memory_update(member=owner.member, memory_id=first.id, text=f"{MARKER} corrected")
    MemoryMessage.objects.create(session_scope=f"user_id={owner.member.subject_id}",
                                 subject_id=owner.member.subject_id, role="user", content=f"{MARKER} raw")
    assert selectors.memory_count(member=owner.member) == 1200
    assert _rows_with_text(MARKER)["vectors"] == 1200

    receipt = services.memory_delete_all(member=owner.member)

    assert receipt.memories_erased == 1200
    assert receipt.remaining_after == 0
    assert receipt.message_rows_erased == 1
    assert _rows_with_text(MARKER) == {"vectors": 0, "history": 0, "messages": 0}
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE payload->>'user_id' = %s", [owner.member.subject_id])
        assert cur.fetchone()[0] == 0
    assert selectors.memory_count(member=colleague.member) == 1
    assert selectors.memory_count(member=stranger.member) == 1


def test_deleting_one_memory_erases_its_history(owner):
    record = services.memory_add(member=owner.member, messages=f"{MARKER} single")[0]
    services.memory_update(member=owner.member, memory_id=record.id, text=f"{MARKER} single, corrected")
    receipt = services.memory_delete(member=owner.member, memory_id=record.id)
    assert receipt.memories_erased == 1 and receipt.lines.get(store="history").erased == 2
    assert _rows_with_text(MARKER) == {"vectors": 0, "history": 0, "messages": 0}
    assert not MemoryEvent.objects.filter(memory_id=record.id).exists()


def test_receipts_hold_no_memory_text(owner):
    services.memory_add(member=owner.member, messages=f"{MARKER} receipt")
    receipt = services.memory_delete_all(member=owner.member)
    from django.forms.models import model_to_dict

    assert MARKER not in str(model_to_dict(receipt))


def test_ending_a_membership_erases_and_never_reuses_the_subject_id(owner):
    from memportal.memory.tenancy import membership_ensure

    services.memory_add(member=owner.member, messages=f"{MARKER} account")
    old_subject = owner.member.subject_id
    receipt = services.membership_end(member=owner.member)
    assert receipt.kind == "account" and receipt.memories_erased == 1
    again = membership_ensure(user=owner.user, tenant=owner.member.tenant)
    assert again.subject_id != old_subject
    assert selectors.memory_count(member=again) == 0
