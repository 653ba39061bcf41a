from django.contrib.auth import get_user_model
from django.urls import reverse

from memportal.memory.models import ErasureReceipt, Membership
from memportal.memory.records import TABLE
from memportal.memory.tenancy import membership_ensure
from tests.factories import tenant
from tests.you.conftest import reauthenticate, remember, texts


def _rows_for(subject_id: str) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE payload->>'user_id' = %s", [subject_id])
        return cur.fetchone()[0]


def test_it_requires_reauthentication(alice_client, owner, alice_memory):
    response = alice_client.post(reverse("you:account_delete"), {"confirm": "delete my account"})
    assert reverse("account_reauthenticate") in response["Location"]
    assert get_user_model().objects.filter(pk=owner.user.pk).exists()


def test_it_refuses_a_wrong_phrase(alice_client, owner, alice_memory):
    reauthenticate(alice_client)
    assert alice_client.post(reverse("you:account_delete"), {"confirm": "ok"}).status_code == 400
    assert texts(owner) == ["Alice is vegetarian"]


def test_it_erases_every_membership_then_deletes_the_user_and_shows_receipts(
    alice_client, owner, alice_memory, colleague, bob_memory
):
    second = membership_ensure(user=owner.user, tenant=tenant("sports_brand_portal"))
    from memportal.memory.services import memory_add

    memory_add(member=second, messages="Alice runs 10k", agent_id="coach")
    reauthenticate(alice_client)
    response = alice_client.post(reverse("you:account_delete"), {"confirm": "delete my account"})
    assert response["Location"] == reverse("you:account_deleted")
    assert not get_user_model().objects.filter(pk=owner.user.pk).exists()
    assert _rows_for(owner.member.subject_id) == 0 and _rows_for(second.subject_id) == 0
    assert Membership.objects.filter(pk__in=[owner.member.pk, second.pk], ended_at__isnull=False).count() == 2
    assert texts(colleague) == ["Bob loves steak"]
    page = alice_client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and "Your account is deleted" in body
    assert body.count("Account deletion") == 2 and "Every place that could hold this data" in body
    assert ErasureReceipt.objects.filter(kind="account").count() == 2
    assert "_auth_user_id" not in alice_client.session


def test_the_deleted_page_shows_nothing_without_a_deletion(client):
    assert client.get(reverse("you:account_deleted")).status_code == 404


def test_it_keeps_others_intact(alice_client, owner, stranger):
    remember(stranger, "Jane runs marathons", agent_id="coach")
    reauthenticate(alice_client)
    alice_client.post(reverse("you:account_delete"), {"confirm": "delete my account"})
    assert texts(stranger) == ["Jane runs marathons"]
