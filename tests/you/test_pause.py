import pytest
from django.urls import reverse

from memportal.memory.errors import MemoryPaused
from memportal.memory.services import memory_add
from tests.you.conftest import texts


def test_it_shows_that_memory_is_on(alice_client, owner):
    assert "Memory is on." in alice_client.get(reverse("you:pause")).content.decode()


def test_it_pauses_and_the_agent_write_path_refuses(alice_client, owner):
    response = alice_client.post(reverse("you:pause"), {"paused": "1"})
    assert response.status_code == 302
    owner.member.refresh_from_db()
    assert owner.member.memory_paused
    # The same service call agents' API uses to save memories.
    with pytest.raises(MemoryPaused, match="paused"):
        memory_add(member=owner.member, messages="Alice moved to Paris", agent_id="concierge")
    assert texts(owner) == []
    assert "Memory is paused." in alice_client.get(reverse("you:pause")).content.decode()


def test_it_resumes(alice_client, owner):
    alice_client.post(reverse("you:pause"), {"paused": "1"})
    alice_client.post(reverse("you:pause"), {"paused": "0"})
    owner.member.refresh_from_db()
    assert not owner.member.memory_paused
    memory_add(member=owner.member, messages="Alice moved to Paris", agent_id="concierge")
    assert texts(owner) == ["Alice moved to Paris"]


def test_it_pauses_only_the_signed_in_person(alice_client, owner, colleague):
    alice_client.post(reverse("you:pause"), {"paused": "1"})
    colleague.member.refresh_from_db()
    assert not colleague.member.memory_paused
