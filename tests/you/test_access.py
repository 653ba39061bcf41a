from django.urls import reverse

from memportal.memory import services
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
    assert staff.email in body and "Searched" in body and "Agent id: concierge" in body


def test_it_hides_looks_at_other_people(alice_client, owner, colleague, staff):
    AccessRecord.objects.create(
        tenant=owner.member.tenant, actor=staff.user, actor_label=staff.email, action="export",
        subject_ids=[colleague.member.subject_id], memories_shown=1,
    )
    body = alice_client.get(reverse("you:access")).content.decode()
    assert "Nobody has looked" in body and staff.email not in body


def test_it_counts_only_my_memories_in_a_staff_view_and_says_the_filter_in_words(
        alice_client, client, owner, colleague, staff):
    services.memory_add(member=owner.member, messages="alice prefers window seats", agent_id="travel")
    for i in range(4):
        services.memory_add(member=colleague.member, messages=f"bob fact {i}", agent_id="travel")
    client.force_login(staff.user)
    client.get("/staff/concierge_app/", {"agent": "travel", "date_from": "2020-01-01", "page_size": 25})
    client.post("/staff/concierge_app/export/jobs/", {"fmt": "csv", "agent": "travel"})
    job_id = str(AccessRecord.objects.get(filters__delivery="file").filters["job"])

    body = alice_client.get(reverse("you:access")).content.decode()
    rows = body[body.index('data-testid="staff-looks"'):]
    assert '<td data-label="Your memories shown">1</td>' in rows  # hers, not the 5 on the page
    assert '<td data-label="Your memories shown">5</td>' not in rows
    assert "Agent: travel · From: 1 Jan 2020" in rows
    assert "How: background export file" in rows
    assert job_id not in rows and "page_size" not in rows and "{" not in rows
