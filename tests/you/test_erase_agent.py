from django.urls import reverse

from memportal.memory.models import ErasureReceipt
from tests.you.conftest import remember, texts


def test_it_erases_everything_one_agent_knows(alice_client, owner):
    remember(owner, "jazz", agent_id="music", run_id="m1")
    remember(owner, "blues", agent_id="music", run_id="m2")
    remember(owner, "window seat", agent_id="travel", run_id="t1")
    response = alice_client.post(reverse("you:erase_agent"), {"agent": "music"})
    receipt = ErasureReceipt.objects.get()
    assert response["Location"] == reverse("you:receipt", args=[receipt.pk])
    assert receipt.kind == "agent" and receipt.memories_erased == 2 and receipt.remaining_after == 0
    assert texts(owner) == ["window seat"]


def test_it_confirms_first(alice_client, owner, alice_memory):
    body = alice_client.get(reverse("you:erase_agent"), {"agent": "concierge"}).content.decode()
    assert "Erase everything agent “concierge” knows about you?" in body
    assert texts(owner) == ["Alice is vegetarian"]


def test_it_will_not_erase_another_persons_agent(alice_client, owner, colleague):
    remember(owner, "mine", agent_id="music")
    remember(colleague, "Bob's", agent_id="bobs-agent")
    assert alice_client.post(reverse("you:erase_agent"), {"agent": "bobs-agent"}).status_code == 404
    assert texts(colleague) == ["Bob's"]
    assert not ErasureReceipt.objects.exists()


def test_it_will_not_erase_another_tenants_agent(alice_client, alice_memory, stranger, jane_memory):
    assert alice_client.post(reverse("you:erase_agent"), {"agent": "coach"}).status_code == 404
    assert texts(stranger) == ["Jane runs marathons"]
    assert not ErasureReceipt.objects.exists()


def test_it_answers_404_for_a_missing_agent(alice_client, owner, alice_memory):
    assert alice_client.post(reverse("you:erase_agent"), {"agent": "ghost"}).status_code == 404
    assert texts(owner) == ["Alice is vegetarian"]


def test_it_only_erases_own_memories_of_a_shared_agent(alice_client, owner, alice_memory, colleague, bob_memory):
    alice_client.post(reverse("you:erase_agent"), {"agent": "concierge"})
    assert texts(owner) == [] and texts(colleague) == ["Bob loves steak"]
