from django.urls import reverse

from memportal.memory.models import ErasureReceipt
from tests.you.conftest import remember, texts


def test_it_confirms_first_with_a_count(alice_client, owner):
    remember(owner, "a", run_id="trip")
    remember(owner, "b", run_id="trip")
    body = alice_client.get(reverse("you:erase_session"), {"session": "trip"}).content.decode()
    assert "Erase session “trip”?" in body and "<strong>2</strong> memories" in body
    assert texts(owner) == ["a", "b"]


def test_it_erases_one_session_only_and_shows_a_receipt(alice_client, owner):
    remember(owner, "trip fact", run_id="trip")
    remember(owner, "other fact", run_id="other")
    response = alice_client.post(reverse("you:erase_session"), {"session": "trip"})
    receipt = ErasureReceipt.objects.get()
    assert response["Location"] == reverse("you:receipt", args=[receipt.pk])
    assert receipt.kind == "run" and receipt.run_id == "trip" and receipt.memories_erased == 1
    assert texts(owner) == ["other fact"]


def test_it_will_not_erase_another_persons_session(alice_client, alice_memory, colleague, bob_memory):
    assert alice_client.post(reverse("you:erase_session"), {"session": "bob-s1"}).status_code == 404
    assert texts(colleague) == ["Bob loves steak"]
    assert not ErasureReceipt.objects.exists()


def test_it_will_not_erase_another_tenants_session(alice_client, alice_memory, stranger, jane_memory):
    assert alice_client.post(reverse("you:erase_session"), {"session": "jane-s1"}).status_code == 404
    assert texts(stranger) == ["Jane runs marathons"]
    assert not ErasureReceipt.objects.exists()


def test_it_answers_404_for_a_missing_session(alice_client, owner, alice_memory):
    assert alice_client.post(reverse("you:erase_session"), {"session": "nope"}).status_code == 404
    assert texts(owner) == ["Alice is vegetarian"]


def test_it_refuses_a_wildcard_session(alice_client, owner, alice_memory, colleague, bob_memory):
    assert alice_client.post(reverse("you:erase_session"), {"session": "*"}).status_code == 404
    assert texts(owner) == ["Alice is vegetarian"] and texts(colleague) == ["Bob loves steak"]
