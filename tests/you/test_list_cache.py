"""The list page's per-person fragment cache (you/fragments.py, memory/versions.py): one person's
cached list is never served to anyone else, and every write and erasure, whichever way it comes
in, shows on the very next page view."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from memportal.memory import services
from memportal.memory.bulk import BulkMemory, memory_bulk_load
from memportal.memory.versions import person_data_version
from memportal.you.fragments import CACHE_ALIAS
from tests.factories import Person

from .conftest import remember


@pytest.fixture(autouse=True)
def empty_fragment_cache():
    caches[CACHE_ALIAS].clear()
    yield
    caches[CACHE_ALIAS].clear()


@pytest.fixture
def bob_client(colleague: Person) -> Client:
    client = Client()
    client.force_login(colleague.user)
    return client


def _page(client: Client, **params: str) -> str:
    """The list part of the page (the cached fragment): the rest changes per request (CSP nonce, CSRF)."""
    response = client.get(reverse("you:list"), params)
    assert response.status_code == 200
    body = response.content.decode()
    return body[body.index('<p class="totals" id="totals">'):body.index("Delete my account")]


def _warm(client: Client, **params: str) -> str:
    """Two views: the first fills the cache, the second is served from it."""
    first = _page(client, **params)
    second = _page(client, **params)
    assert second == first
    return second


def test_it_never_serves_one_persons_cached_list_to_another(
    alice_client, bob_client, alice_memory, bob_memory, owner, colleague, django_assert_max_num_queries
):
    # Same tenant, same filters, same page, both caches warm: each sees only their own.
    alice_body, bob_body = _warm(alice_client), _warm(bob_client)
    with django_assert_max_num_queries(3):  # session, user, memberships: no memory query at all
        assert _page(alice_client) == alice_body
    assert "Alice is vegetarian" in alice_body and "Bob loves steak" not in alice_body
    assert "Bob loves steak" in bob_body and "Alice is vegetarian" not in bob_body
    # Identical contents do not make the fragments shareable either.
    services.memory_delete(member=owner.member, memory_id=alice_memory.id)
    services.memory_delete(member=colleague.member, memory_id=bob_memory.id)
    remember(owner, "I like tea", run_id="same")
    remember(colleague, "I like tea", run_id="same")
    alice_body, bob_body = _warm(alice_client), _warm(bob_client)
    assert f'href="/you/memories/{owner_memory_id(alice_body)}/"' not in bob_body
    assert owner_memory_id(alice_body) != owner_memory_id(bob_body)


def owner_memory_id(body: str) -> str:
    return body.split('<tr id="memory-', 1)[1].split('"', 1)[0]


def test_it_keeps_each_filter_and_page_apart(alice_client, owner):
    remember(owner, "Alice takes the night train", agent_id="travel", run_id="t1")
    remember(owner, "Alice is vegetarian", agent_id="concierge", run_id="c1")
    everything = _warm(alice_client)
    travel = _warm(alice_client, agent="travel")
    assert "night train" in everything and "vegetarian" in everything
    assert "night train" in travel and "vegetarian" not in travel


def _bulk(who: Person) -> None:
    memory_bulk_load(items=[BulkMemory(member=who.member, text="Alice was imported", vector=[0.0] * 383 + [1.0])],
                     members=[who.member])


SINGS = {"role": "user", "content": "Alice sings"}


@pytest.mark.parametrize(
    ("change", "gone", "shown"),
    [
        (lambda who, m: remember(who, "Alice moved to Lisbon"), None, "Alice moved to Lisbon"),
        (lambda who, m: services.memory_add_many(member=who.member, messages=[SINGS]), None, "Alice sings"),
        (lambda who, m: services.memory_update(member=who.member, memory_id=m.id, text="Alice eats fish"),
         "Alice is vegetarian", "Alice eats fish"),
        (lambda who, m: services.memory_delete(member=who.member, memory_id=m.id), "Alice is vegetarian", None),
        (lambda who, m: services.memory_delete_all(member=who.member, run_id="alice-s1"), "Alice is vegetarian",
         None),
        (lambda who, m: services.memory_delete_all(member=who.member), "Alice is vegetarian", None),
        (lambda who, m: _bulk(who), None, "Alice was imported"),
        (lambda who, m: services.tenant_erase_batch(tenant=who.member.tenant), "Alice is vegetarian", None),
    ],
    ids=["add", "import", "correct", "delete", "erase-session", "erase-all", "bulk-load", "offboarding-batch"],
)
def test_every_write_and_erasure_shows_on_the_next_view(
    alice_client, bob_client, owner, alice_memory, bob_memory, change: Callable, gone: str | None,
    shown: str | None,
):
    before = _warm(alice_client)
    bob_before = _warm(bob_client)
    version = person_data_version(subject_id=owner.member.subject_id, tenant_id=owner.member.tenant_id)
    change(owner, alice_memory)
    assert person_data_version(subject_id=owner.member.subject_id, tenant_id=owner.member.tenant_id) != version
    after = _page(alice_client)
    assert after != before
    if gone:
        assert gone not in after
    if shown:
        assert shown in after
    # Bob's page is his own either way (fresh after a tenant-wide change, cached otherwise).
    bob_after = _page(bob_client)
    assert "Alice" not in bob_after
    if "Bob loves steak" in bob_after:  # everything but the tenant-wide erasure leaves Bob's memories
        assert bob_after == bob_before


def test_an_edit_through_the_page_shows_at_once(alice_client, owner, alice_memory):
    _warm(alice_client)
    response = alice_client.post(reverse("you:edit", args=[alice_memory.id]), {"text": "Alice eats fish"})
    assert response.status_code in (200, 302)
    body = _page(alice_client)
    assert "Alice eats fish" in body and "Alice is vegetarian" not in body


def test_the_cache_holds_nothing_outside_web_process_memory(alice_client, owner, alice_memory):
    """The cached HTML is in the per-process LocMemCache only: never in the database."""
    from django.db import connection

    _warm(alice_client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM memportal_cache WHERE value LIKE %s", ["%vegetarian%"])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM memportal_cache")
        rows_before = cursor.fetchone()[0]
    _page(alice_client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM memportal_cache")
        assert cursor.fetchone()[0] == rows_before


def test_ending_the_membership_forgets_the_persons_version_row(owner, alice_memory):
    from django.db import connection

    services.memory_delete(member=owner.member, memory_id=alice_memory.id)  # creates the person's row
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM memportal_data_version WHERE key = %s", [f"p:{owner.member.subject_id}"])
        assert cursor.fetchone()[0] == 1
    receipt = services.membership_end(member=owner.member)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM memportal_data_version WHERE key = %s", [f"p:{owner.member.subject_id}"])
        assert cursor.fetchone()[0] == 0
    assert receipt.pk
