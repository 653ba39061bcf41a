"""The "your data" list page runs a fixed, small number of SQL queries, however many memories
the person has (the page must stay fast at a million memories: docs/benchmarks.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from memportal.memory.bulk import BulkMemory, memory_bulk_load
from tests.factories import Person

# session, user, memberships (once per request, the navigation reuses them; with the person's data
# version, you/fragments.py), one scan for all the counts (total, agents, sessions, this filter),
# one page of rows.
LIST_QUERIES = 5
# The same page again, nothing written since: the list comes from the per-person fragment cache.
LIST_QUERIES_CACHED = 3


def _load(who: Person, count: int) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    memory_bulk_load(
        items=[
            BulkMemory(
                member=who.member,
                text=f"fact number {i}",
                vector=[0.0] * 383 + [1.0],
                agent_id=f"agent-{i % 4}",
                run_id=f"session-{i % 7}",
                created_at=start + timedelta(minutes=i),
            )
            for i in range(count)
        ],
        members=[who.member],
    )


@pytest.mark.parametrize("params", [{}, {"agent": "agent-1"}, {"session": "session-2"},
                                    {"agent": "agent-1", "session": "session-5"}, {"page": 2}])
def test_it_runs_the_same_few_queries_for_one_memory_and_for_many(
    alice_client, owner, django_assert_max_num_queries, params
):
    _load(owner, 1)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = alice_client.get(reverse("you:list"), params)
    assert response.status_code == 200
    _load(owner, 120)  # several pages, agents and sessions
    with django_assert_max_num_queries(LIST_QUERIES):
        response = alice_client.get(reverse("you:list"), params)
    assert response.status_code == 200
    assert "fact number" in response.content.decode()
    with django_assert_max_num_queries(LIST_QUERIES_CACHED):
        again = alice_client.get(reverse("you:list"), params)
    assert again.content.decode().count("fact number") == response.content.decode().count("fact number")


def test_it_runs_the_same_few_queries_with_several_apps(alice_client, owner, django_assert_num_queries):
    from memportal.memory.tenancy import membership_ensure
    from tests.factories import tenant

    membership_ensure(user=owner.user, tenant=tenant("sports_brand_portal"))
    _load(owner, 30)
    with django_assert_num_queries(LIST_QUERIES):
        body = alice_client.get(reverse("you:list")).content.decode()
    assert "Switch app" in body


def test_its_counts_match_the_filters(alice_client, owner):
    _load(owner, 120)
    body = alice_client.get(reverse("you:list"), {"agent": "agent-1"}).content.decode()
    # 120 memories over 4 agents and 7 sessions: agent-1 has 30, in every session.
    assert "Showing 25 of 30 matching" in body
    assert '<option value="agent-1" selected>agent-1 (30)</option>' in body
    assert '<option value="session-1">session-1 (' in body
    body = alice_client.get(reverse("you:list"), {"agent": "agent-1", "session": "session-1"}).content.decode()
    expected = sum(1 for i in range(120) if i % 4 == 1 and i % 7 == 1)
    assert f"Showing {expected} of {expected} matching" in body
    assert 'remember <strong id="all-total">120</strong> things about you' in body
