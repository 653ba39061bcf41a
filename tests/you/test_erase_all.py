from django.urls import reverse

from memportal.memory.models import ErasureReceipt, MemoryEvent, MemoryMessage
from memportal.memory.records import TABLE
from tests.you.conftest import reauthenticate, remember, texts


def _rows_for(subject_id: str) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE payload->>'user_id' = %s", [subject_id])
        return cur.fetchone()[0]


def test_it_requires_reauthentication(alice_client, owner, alice_memory):
    response = alice_client.get(reverse("you:erase_all"))
    assert response.status_code == 302 and reverse("account_reauthenticate") in response["Location"]


def test_it_refuses_to_erase_without_reauthentication(alice_client, owner, alice_memory):
    response = alice_client.post(reverse("you:erase_all"), {"confirm": "delete everything"})
    assert response.status_code == 302 and reverse("account_reauthenticate") in response["Location"]
    assert texts(owner) == ["Alice is vegetarian"]


def test_it_refuses_a_wrong_phrase(alice_client, owner, alice_memory):
    reauthenticate(alice_client)
    response = alice_client.post(reverse("you:erase_all"), {"confirm": "yes"})
    assert response.status_code == 400
    assert texts(owner) == ["Alice is vegetarian"]


def test_it_erases_everything_with_a_verified_receipt(alice_client, owner, colleague, bob_memory, stranger,
                                                      jane_memory):
    remember(owner, "one", agent_id="a", run_id="r1")
    remember(owner, "two", agent_id="b", run_id="r2")
    reauthenticate(alice_client)
    response = alice_client.post(reverse("you:erase_all"), {"confirm": "delete everything"})
    receipt = ErasureReceipt.objects.get()
    assert response["Location"] == reverse("you:receipt", args=[receipt.pk])
    assert receipt.kind == "all" and receipt.memories_erased == 2 and receipt.remaining_after == 0
    assert _rows_for(owner.member.subject_id) == 0
    assert not MemoryMessage.objects.filter(subject_id=owner.member.subject_id).exists()
    assert not MemoryEvent.objects.filter(new_memory__in=["one", "two"]).exists()
    assert texts(colleague) == ["Bob loves steak"] and texts(stranger) == ["Jane runs marathons"]


def test_it_resumes_the_erasure_after_reauthenticating(alice_client, owner, alice_memory):
    from tests.factories import PASSWORD

    first = alice_client.post(reverse("you:erase_all"), {"confirm": "delete everything"})
    response = alice_client.post(first["Location"], {"password": PASSWORD})
    assert response.status_code == 302 and "/you/receipts/" in response["Location"]
    assert texts(owner) == []
