"""Input that could widen a mem0 filter, or is malformed, is refused and changes nothing."""

from __future__ import annotations

import pytest

from memportal.memory import selectors, services
from memportal.memory.errors import InvalidInput

WIDENING = ["*", "", "   ", ["a", "b"], {"$ne": "x"}, {"in": ["a"]}, "a b", "x*", True, 3.5]


@pytest.mark.parametrize("value", WIDENING)
def test_add_rejects_bad_agent_id(owner, value):
    with pytest.raises(InvalidInput) as err:
        services.memory_add(member=owner.member, messages="hello", agent_id=value)
    assert err.value.field == "agent_id"
    assert selectors.memory_count(member=owner.member) == 0


@pytest.mark.parametrize("value", WIDENING)
def test_add_rejects_bad_run_id(owner, value):
    with pytest.raises(InvalidInput):
        services.memory_add(member=owner.member, messages="hello", run_id=value)
    assert selectors.memory_count(member=owner.member) == 0


@pytest.mark.parametrize("value", WIDENING)
def test_search_rejects_bad_scope_filters(owner, value):
    with pytest.raises(InvalidInput):
        selectors.memory_search(member=owner.member, query="anything", agent_id=value)


@pytest.mark.parametrize("value", WIDENING)
def test_delete_all_rejects_bad_scope_and_erases_nothing(owner, value):
    services.memory_add(member=owner.member, messages="keep me")
    with pytest.raises(InvalidInput):
        services.memory_delete_all(member=owner.member, agent_id=value)
    assert selectors.memory_count(member=owner.member) == 1


@pytest.mark.parametrize("messages", ["", "   ", [], {}, [{"role": "user"}], [{"role": "hacker", "content": "x"}],
                                      [{"role": "user", "content": "x", "user_id": "other"}], 42, None])
def test_add_rejects_malformed_messages(owner, messages):
    with pytest.raises(InvalidInput):
        services.memory_add(member=owner.member, messages=messages)
    assert selectors.memory_count(member=owner.member) == 0


def test_add_rejects_text_over_the_limit(owner, settings):
    with pytest.raises(InvalidInput) as err:
        services.memory_add(member=owner.member, messages="x" * (settings.MEMPORTAL["MAX_MEMORY_CHARS"] + 1))
    assert "limit" in err.value.message


@pytest.mark.parametrize("metadata", [{"user_id": "someone-else"}, {"app_id": "sports_brand_portal"},
                                      {"agent_id": "x"}, ["not", "a", "dict"], {"k": object()}])
def test_add_rejects_metadata_that_names_a_scope_or_is_not_json(owner, metadata):
    with pytest.raises(InvalidInput):
        services.memory_add(member=owner.member, messages="hello", metadata=metadata)


def test_app_id_is_always_written_from_the_membership(owner):
    record = services.memory_add(member=owner.member, messages="hello", metadata={"topic": "greeting"})[0]
    assert record.app_id == "concierge_app"
    assert record.metadata == {"topic": "greeting"}


def test_subject_id_is_opaque(owner):
    subject = owner.member.subject_id
    assert owner.user.username not in subject and "@" not in subject and subject != str(owner.user.pk)
    assert len(subject) >= 32
