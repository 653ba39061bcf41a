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


def test_it_shows_the_apps_feedback_beside_the_memory(alice_client, owner, alice_memory):
    from memportal.memory.models import MemoryFeedback

    MemoryFeedback.objects.create(tenant=owner.member.tenant, memory_id=alice_memory.id,
                                  subject_id=owner.member.subject_id, rating="NEGATIVE", reason="outdated",
                                  key_prefix="abcdef12")
    body = alice_client.get(reverse("you:detail", args=[alice_memory.id])).content.decode()
    assert "Negative" in body and "outdated" in body and "mpk_abcdef12_" in body
