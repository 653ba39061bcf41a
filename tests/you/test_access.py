from django.urls import reverse

from memportal.staff.models import AccessRecord


def test_it_shows_a_clear_empty_state(alice_client, owner):
    body = alice_client.get(reverse("you:access")).content.decode()
    assert "Nobody has looked" in body


def test_it_lists_staff_looks_that_touched_my_memories(alice_client, owner, staff):
    AccessRecord.objects.create(
        tenant=owner.member.tenant, actor=staff.user, actor_label=staff.email, action="search",
        filters={"agent_id": "concierge"}, subject_ids=[owner.member.subject_id], memories_shown=3,
    )
    body = alice_client.get(reverse("you:access")).content.decode()
    assert staff.email in body and "Searched" in body and "agent_id = concierge" in body


def test_it_hides_looks_at_other_people(alice_client, owner, colleague, staff):
    AccessRecord.objects.create(
        tenant=owner.member.tenant, actor=staff.user, actor_label=staff.email, action="export",
        subject_ids=[colleague.member.subject_id], memories_shown=1,
    )
    body = alice_client.get(reverse("you:access")).content.decode()
    assert "Nobody has looked" in body and staff.email not in body
