"""Service-level isolation: nothing returns or touches another person's memory.

owner = alice (concierge_app), colleague = bob (concierge_app), stranger = jane (sports_brand_portal).
"""

from __future__ import annotations

import pytest

from memportal.memory import selectors, services
from memportal.memory.errors import MemoryNotFound


@pytest.fixture
def memories(owner, colleague, stranger):
    return {
        "owner": services.memory_add(member=owner.member, messages="I am vegetarian", agent_id="chef_recommender")[0],
        "colleague": services.memory_add(member=colleague.member, messages="I prefer a window seat on flights",
                                         agent_id="travel_planner")[0],
        "stranger": services.memory_add(member=stranger.member, messages="I am vegetarian too, and I run marathons",
                                        agent_id="coach")[0],
    }


def _texts(records) -> set[str]:
    return {r.text for r in records}


def test_list_returns_only_own_memories(owner, memories):
    page = selectors.memory_list(member=owner.member)
    assert _texts(page.items) == {"I am vegetarian"}
    assert page.total == 1


def test_search_never_returns_other_peoples_memories(owner, memories):
    hits = selectors.memory_search(member=owner.member, query="vegetarian marathon window seat", limit=50)
    assert [h.id for h in hits] == [memories["owner"].id]


def test_search_in_same_tenant_stays_with_the_person(colleague, memories):
    # floor=False: the whole ranking, so nothing can hide a leak behind the relevance floor.
    hits = selectors.memory_search(member=colleague.member, query="vegetarian", limit=50, floor=False)
    assert _texts(hits) == {"I prefer a window seat on flights"}
    assert selectors.memory_search(member=colleague.member, query="vegetarian") == []


@pytest.mark.parametrize("other", ["colleague", "stranger"])
def test_get_hides_other_users_memory(owner, memories, other):
    with pytest.raises(MemoryNotFound):
        selectors.memory_get(member=owner.member, memory_id=memories[other].id)


@pytest.mark.parametrize("bad_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "*", ""])
def test_get_missing_id_is_the_same_not_found(owner, memories, bad_id):
    with pytest.raises(MemoryNotFound):
        selectors.memory_get(member=owner.member, memory_id=bad_id)


@pytest.mark.parametrize("other", ["colleague", "stranger"])
def test_update_refuses_other_users_memory_and_changes_nothing(owner, memories, other):
    with pytest.raises(MemoryNotFound):
        services.memory_update(member=owner.member, memory_id=memories[other].id, text="hijacked")
    from memportal.memory.models import Membership

    victim = Membership.objects.get(subject_id=memories[other].subject_id)
    assert selectors.memory_get(member=victim, memory_id=memories[other].id).text == memories[other].text


@pytest.mark.parametrize("other", ["colleague", "stranger"])
def test_delete_refuses_other_users_memory(owner, memories, other):
    with pytest.raises(MemoryNotFound):
        services.memory_delete(member=owner.member, memory_id=memories[other].id)
    from memportal.memory.models import Membership

    victim = Membership.objects.get(subject_id=memories[other].subject_id)
    assert selectors.memory_count(member=victim) == 1


@pytest.mark.parametrize("other", ["colleague", "stranger"])
def test_history_hides_other_users_memory(owner, memories, other):
    with pytest.raises(MemoryNotFound):
        selectors.memory_history(member=owner.member, memory_id=memories[other].id)


def test_delete_all_touches_only_the_owner(owner, colleague, stranger, memories):
    receipt = services.memory_delete_all(member=owner.member)
    assert receipt.memories_erased == 1 and receipt.remaining_after == 0
    assert selectors.memory_count(member=owner.member) == 0
    assert selectors.memory_count(member=colleague.member) == 1
    assert selectors.memory_count(member=stranger.member) == 1


def test_agent_and_run_scopes_stay_apart(owner):
    services.memory_add(member=owner.member, messages="Avoids shellfish", agent_id="travel_planner",
                        run_id="tokyo-2025-weekend")
    services.memory_add(member=owner.member, messages="Loves Kyoto kaiseki", agent_id="chef_recommender",
                        run_id="menu-planning-2025-04")
    chef = selectors.memory_search(member=owner.member, query="food", agent_id="chef_recommender",
                                   run_id="menu-planning-2025-04", floor=False)
    assert _texts(chef) == {"Loves Kyoto kaiseki"}
    everything = selectors.memory_search(member=owner.member, query="food", floor=False)
    assert _texts(everything) == {"Avoids shellfish", "Loves Kyoto kaiseki"}
    receipt = services.memory_delete_all(member=owner.member, run_id="tokyo-2025-weekend")
    assert receipt.kind == "run" and receipt.memories_erased == 1
    assert _texts(selectors.memory_list(member=owner.member).items) == {"Loves Kyoto kaiseki"}


def test_history_records_corrections(owner):
    record = services.memory_add(member=owner.member, messages="I like window seats")[0]
    services.memory_update(member=owner.member, memory_id=record.id, text="I like aisle seats")
    events = selectors.memory_history(member=owner.member, memory_id=record.id)
    assert [(e.event, e.old_text, e.new_text) for e in events] == [
        ("ADD", None, "I like window seats"),
        ("UPDATE", "I like window seats", "I like aisle seats"),
    ]


def test_update_re_embeds_the_text(owner):
    record = services.memory_add(member=owner.member, messages="I like window seats")[0]
    services.memory_update(member=owner.member, memory_id=record.id, text="I am allergic to peanuts")
    top = selectors.memory_search(member=owner.member, query="food allergy", limit=1)[0]
    assert top.text == "I am allergic to peanuts" and top.score > 0.3


def test_list_pages_newest_first_with_total(owner):
    for i in range(25):
        services.memory_add(member=owner.member, messages=f"memory number {i}")
    first = selectors.memory_list(member=owner.member, page=1, page_size=10)
    last = selectors.memory_list(member=owner.member, page=3, page_size=10)
    assert first.total == 25 and first.pages == 3
    assert first.items[0].text == "memory number 24"
    assert [r.text for r in last.items] == [f"memory number {i}" for i in range(4, -1, -1)]


def test_paused_person_refuses_writes(owner):
    from memportal.memory.errors import MemoryPaused

    services.memory_pause_set(member=owner.member, paused=True)
    with pytest.raises(MemoryPaused):
        services.memory_add(member=owner.member, messages="should not be stored")
    assert selectors.memory_count(member=owner.member) == 0
