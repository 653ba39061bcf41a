"""/you/apps/: every app that holds memories about the person, and the stops, resume and erase per app."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memportal.agents.services import key_read_record
from memportal.memory.models import ErasureReceipt, Membership
from memportal.memory.services import memory_add
from memportal.memory.tenancy import membership_ensure
from memportal.staff.services import access_record_write
from tests.factories import tenant
from tests.you.conftest import reauthenticate, texts


@pytest.fixture
def alice_sports(owner):
    """Alice is known to a second app too (as a portal link or a second sign-up would make her)."""
    member = membership_ensure(user=owner.user, tenant=tenant("sports_brand_portal"))
    memory_add(member=member, messages="Alice runs 10k", agent_id="coach")
    memory_add(member=member, messages="Alice likes trail shoes", agent_id="coach")
    return member


def test_it_lists_every_app_that_holds_memories_with_counts(alice_client, owner, alice_memory, alice_sports,
                                                            stranger, jane_memory, colleague, bob_memory):
    response = alice_client.get(reverse("you:apps"))
    assert response.status_code == 200
    apps = {a.slug: a for a in response.context["apps"]}
    assert set(apps) == {"concierge_app", "sports_brand_portal"}
    assert apps["concierge_app"].memories == 1 and apps["sports_brand_portal"].memories == 2
    assert response.context["total"] == 3
    body = response.content.decode()
    # Counts and controls only: no memory text of anyone, and nobody else's app or person.
    assert "Jane" not in body and "Bob" not in body and "Alice runs 10k" not in body


def test_it_shows_last_write_last_app_read_and_last_staff_look(alice_client, owner, alice_memory, staff):
    from memportal.agents.services import appkey_create

    key, _ = appkey_create(tenant=owner.member.tenant, name="k", permissions=("read",))
    key_read_record(key=key, action="list", counts={owner.member.subject_id: 1}, everyone=False)
    access_record_write(tenant=owner.member.tenant, actor=staff.user, action="view", flt={},
                        subject_ids=[owner.member.subject_id], memories_shown=1)
    app = alice_client.get(reverse("you:apps")).context["apps"][0]
    assert app.last_write and app.last_app_read and app.last_staff_look


def test_a_person_with_no_app_is_sent_to_the_welcome_page(client, django_user_model):
    user = django_user_model.objects.create_user(username="nobody", email="nobody@example.com", password="x-y-z-w")
    client.force_login(user)
    assert client.get(reverse("you:apps"))["Location"] == reverse("you:welcome")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for name, args in (("you:apps", []), ("you:app_reading", ["concierge_app"]),
                       ("you:app_remembering", ["concierge_app"]), ("you:app_erase", ["concierge_app"])):
        response = client.post(reverse(name, args=args), {"stopped": "1"})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_stops_and_resumes_reading_for_one_app_only(alice_client, owner, alice_memory, alice_sports):
    response = alice_client.post(reverse("you:app_reading", args=["sports_brand_portal"]), {"stopped": "1"})
    assert response.status_code == 302
    alice_sports.refresh_from_db()
    owner.member.refresh_from_db()
    assert alice_sports.reads_stopped and not owner.member.reads_stopped
    assert "can no longer read" in alice_client.get(reverse("you:apps")).content.decode()
    alice_client.post(reverse("you:app_reading", args=["sports_brand_portal"]), {"stopped": "0"})
    alice_sports.refresh_from_db()
    assert not alice_sports.reads_stopped


def test_stop_remembering_is_the_same_switch_as_pause(alice_client, owner, alice_memory):
    alice_client.post(reverse("you:app_remembering", args=["concierge_app"]), {"stopped": "1"})
    owner.member.refresh_from_db()
    assert owner.member.memory_paused
    assert "Memory is paused." in alice_client.get(reverse("you:pause")).content.decode()
    alice_client.post(reverse("you:pause"), {"paused": "0"})
    owner.member.refresh_from_db()
    assert not owner.member.memory_paused


@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_bad_input_is_a_400_and_changes_nothing(alice_client, owner, value):
    response = alice_client.post(reverse("you:app_reading", args=["concierge_app"]), {"stopped": value})
    assert response.status_code == 400
    owner.member.refresh_from_db()
    assert not owner.member.reads_stopped


def test_a_repeated_parameter_is_a_400(alice_client, owner):
    response = alice_client.post(reverse("you:app_remembering", args=["concierge_app"]), {"stopped": ["0", "1"]})
    assert response.status_code == 400
    owner.member.refresh_from_db()
    assert not owner.member.memory_paused


def test_another_persons_app_is_not_found_and_unchanged(alice_client, owner, stranger, jane_memory):
    """Alice names the stranger's tenant (and a made-up one): 404 alike, and Jane's flags stay."""
    for slug in ("sports_brand_portal", "no_such_app", "*"):
        for name in ("you:app_reading", "you:app_remembering"):
            assert alice_client.post(reverse(name, args=[slug]), {"stopped": "1"}).status_code == 404
    reauthenticate(alice_client)
    assert alice_client.get(reverse("you:app_erase", args=["sports_brand_portal"])).status_code == 404
    assert alice_client.post(reverse("you:app_erase", args=["sports_brand_portal"]),
                             {"confirm": "delete everything"}).status_code == 404
    stranger.member.refresh_from_db()
    assert not stranger.member.reads_stopped and not stranger.member.memory_paused
    assert texts(stranger) == ["Jane runs marathons"]


def test_a_colleague_cannot_stop_alices_app_for_her(client, owner, colleague):
    client.force_login(colleague.user)
    client.post(reverse("you:app_reading", args=["concierge_app"]), {"stopped": "1"})
    owner.member.refresh_from_db()
    colleague.member.refresh_from_db()
    assert not owner.member.reads_stopped and colleague.member.reads_stopped  # only her own membership


def test_erasing_one_app_needs_reauthentication(alice_client, owner, alice_memory):
    response = alice_client.post(reverse("you:app_erase", args=["concierge_app"]), {"confirm": "delete everything"})
    assert response.status_code == 302 and reverse("account_reauthenticate") in response["Location"]
    assert texts(owner) == ["Alice is vegetarian"]


def test_erasing_one_app_needs_the_phrase(alice_client, owner, alice_memory):
    reauthenticate(alice_client)
    assert alice_client.post(reverse("you:app_erase", args=["concierge_app"]), {"confirm": "yes"}).status_code == 400
    assert texts(owner) == ["Alice is vegetarian"]


def test_erasing_one_app_leaves_the_other_apps_and_people(alice_client, owner, alice_memory, alice_sports,
                                                          colleague, bob_memory):
    reauthenticate(alice_client)
    page = alice_client.get(reverse("you:app_erase", args=["sports_brand_portal"]))
    assert page.status_code == 200 and "<strong>2</strong>" in page.content.decode()
    response = alice_client.post(reverse("you:app_erase", args=["sports_brand_portal"]),
                                 {"confirm": "delete everything"})
    receipt = ErasureReceipt.objects.get()
    assert response["Location"] == reverse("you:receipt", args=[receipt.pk])
    assert receipt.tenant.slug == "sports_brand_portal" and receipt.memories_erased == 2
    assert Membership.objects.get(pk=alice_sports.pk).ended_at is None  # the app may be told to remember again
    assert texts(owner) == ["Alice is vegetarian"] and texts(colleague) == ["Bob loves steak"]


def test_switching_to_one_app_from_the_apps_page(alice_client, owner, alice_memory, alice_sports):
    alice_client.post(reverse("you:tenant_switch"), {"tenant": "sports_brand_portal"})
    apps = alice_client.get(reverse("you:apps")).context["apps"]
    assert [a.slug for a in apps if a.current] == ["sports_brand_portal"]
    assert "Alice runs 10k" in alice_client.get(reverse("you:list")).content.decode()


def test_the_assistant_recalls_nothing_when_reading_is_stopped(alice_client, owner, alice_memory):
    from memportal.memory.services import memory_reads_stop_set

    memory_reads_stop_set(member=owner.member, stopped=True)
    response = alice_client.post(reverse("agents:assistant_turn"),
                                 {"agent": "travel_planner", "run_id": "chat-1", "message": "am I vegetarian?"},
                                 HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "stopped this app from reading" in body
    assert response.context["recalled"] == []


def test_the_assistant_stores_nothing_when_remembering_is_stopped(alice_client, owner, alice_memory):
    alice_client.post(reverse("you:app_remembering", args=["concierge_app"]), {"stopped": "1"})
    alice_client.post(reverse("agents:assistant_turn"),
                      {"agent": "travel_planner", "run_id": "chat-1", "message": "I moved to Lyon"},
                      HTTP_HX_REQUEST="true")
    assert texts(owner) == ["Alice is vegetarian"]


def test_the_download_says_which_stops_are_on(alice_client, owner, alice_memory):
    import json

    alice_client.post(reverse("you:app_reading", args=["concierge_app"]), {"stopped": "1"})
    response = alice_client.get(reverse("you:export"))
    data = json.loads(b"".join(response.streaming_content))
    assert data["reads_stopped"] is True and data["memory_paused"] is False
