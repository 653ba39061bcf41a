import uuid

from django.urls import reverse

from memportal.memory import selectors
from memportal.memory.models import MemoryEvent
from tests.you.conftest import texts


def test_it_corrects_the_text_and_records_history(alice_client, owner, alice_memory):
    response = alice_client.post(reverse("you:edit", args=[alice_memory.id]), {"text": "Alice is vegan"})
    assert response.status_code == 302
    assert selectors.memory_get(member=owner.member, memory_id=alice_memory.id).text == "Alice is vegan"
    assert MemoryEvent.objects.filter(memory_id=alice_memory.id, event="UPDATE").exists()


def test_it_re_embeds_the_corrected_text(alice_client, owner, alice_memory):
    alice_client.post(reverse("you:edit", args=[alice_memory.id]), {"text": "Alice plays the cello"})
    best = selectors.memory_search(member=owner.member, query="musical instrument", limit=1)[0]
    assert best.id == alice_memory.id and best.text == "Alice plays the cello"


def test_it_refuses_empty_text(alice_client, owner, alice_memory):
    response = alice_client.post(reverse("you:edit", args=[alice_memory.id]), {"text": "   "})
    assert response.status_code == 400
    assert texts(owner) == ["Alice is vegetarian"]


def test_it_shows_the_form(alice_client, alice_memory):
    body = alice_client.get(reverse("you:edit", args=[alice_memory.id])).content.decode()
    assert '<label for="id_text">' in body and "Alice is vegetarian" in body


def test_it_will_not_correct_another_persons_memory(alice_client, colleague, bob_memory):
    response = alice_client.post(reverse("you:edit", args=[bob_memory.id]), {"text": "hacked"})
    assert response.status_code == 404
    assert texts(colleague) == ["Bob loves steak"]


def test_it_will_not_correct_another_tenants_memory(alice_client, stranger, jane_memory):
    response = alice_client.post(reverse("you:edit", args=[jane_memory.id]), {"text": "hacked"})
    assert response.status_code == 404
    assert texts(stranger) == ["Jane runs marathons"]


def test_it_answers_404_for_a_missing_memory(alice_client, owner, alice_memory):
    response = alice_client.post(reverse("you:edit", args=[uuid.uuid4()]), {"text": "hacked"})
    assert response.status_code == 404
    assert texts(owner) == ["Alice is vegetarian"]


def test_it_hides_the_form_for_another_persons_memory(alice_client, bob_memory):
    assert alice_client.get(reverse("you:edit", args=[bob_memory.id])).status_code == 404
