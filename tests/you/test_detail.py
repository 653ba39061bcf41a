import uuid

from django.urls import reverse

from memportal.memory import services


def test_it_shows_the_memory_and_its_history(alice_client, owner, alice_memory):
    services.memory_update(member=owner.member, memory_id=alice_memory.id, text="Alice is vegan")
    body = alice_client.get(reverse("you:detail", args=[alice_memory.id])).content.decode()
    assert "Alice is vegan" in body
    assert "Corrected" in body and "Alice is vegetarian" in body


def test_it_hides_another_persons_memory(alice_client, alice_memory, bob_memory):
    assert alice_client.get(reverse("you:detail", args=[bob_memory.id])).status_code == 404


def test_it_hides_another_tenants_memory(alice_client, alice_memory, jane_memory):
    assert alice_client.get(reverse("you:detail", args=[jane_memory.id])).status_code == 404


def test_it_answers_404_for_a_missing_memory(alice_client, alice_memory):
    assert alice_client.get(reverse("you:detail", args=[uuid.uuid4()])).status_code == 404


def test_it_answers_404_for_a_malformed_id(alice_client, alice_memory):
    assert alice_client.get(reverse("you:detail", args=["*"])).status_code == 404
