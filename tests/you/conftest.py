"""Fixtures for the "Your data" view tests: signed-in clients and a few memories per person."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from memportal.memory import selectors
from memportal.memory.records import MemoryRecord
from memportal.memory.services import memory_add
from tests.factories import PASSWORD, Person


def remember(who: Person, text: str, agent_id: str = "concierge", run_id: str | None = "s1") -> MemoryRecord:
    return memory_add(member=who.member, messages=text, agent_id=agent_id, run_id=run_id)[0]


def texts(who: Person) -> list[str]:
    return sorted(m.text for m in selectors.memory_list(member=who.member, page_size=1000).items)


def reauthenticate(client: Client) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302, response.content[:500]


@pytest.fixture
def alice_client(owner: Person) -> Client:
    client = Client()
    client.force_login(owner.user)
    return client


@pytest.fixture
def alice_memory(owner: Person) -> MemoryRecord:
    return remember(owner, "Alice is vegetarian", agent_id="concierge", run_id="alice-s1")


@pytest.fixture
def bob_memory(colleague: Person) -> MemoryRecord:
    return remember(colleague, "Bob loves steak", agent_id="concierge", run_id="bob-s1")


@pytest.fixture
def jane_memory(stranger: Person) -> MemoryRecord:
    return remember(stranger, "Jane runs marathons", agent_id="coach", run_id="jane-s1")
