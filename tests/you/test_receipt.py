import uuid

import pytest
from django.urls import reverse

from memportal.memory import services


@pytest.mark.django_db(transaction=True)
def test_it_shows_what_how_many_when_and_verification(alice_client, owner, alice_memory):
    receipt = services.memory_delete_all(member=owner.member, requested_by=owner.user)
    body = alice_client.get(reverse("you:receipt", args=[receipt.pk])).content.decode()
    assert "Everything" in body
    assert 'data-testid="memories-erased">1<' in body
    assert "0 remaining in every store" in body
    assert 'data-store="history"' in body and 'data-store="export_files"' in body
    assert reverse("you:receipt_signed", args=[receipt.pk]) in body
    assert receipt.finished_at.strftime("%Y") in body


def test_it_says_not_verified_until_the_recount_has_run(alice_client, owner, alice_memory):
    # In a test transaction nothing commits, so the recount (run after commit) has not run.
    receipt = services.memory_delete_all(member=owner.member, requested_by=owner.user)
    body = alice_client.get(reverse("you:receipt", args=[receipt.pk])).content.decode()
    assert "Not verified yet" in body and "0 remaining in every store" not in body


def test_it_hides_another_persons_receipt(alice_client, colleague, bob_memory):
    receipt = services.memory_delete_all(member=colleague.member)
    assert alice_client.get(reverse("you:receipt", args=[receipt.pk])).status_code == 404


def test_it_hides_another_tenants_receipt(alice_client, owner, stranger, jane_memory):
    receipt = services.memory_delete_all(member=stranger.member)
    assert alice_client.get(reverse("you:receipt", args=[receipt.pk])).status_code == 404


def test_it_answers_404_for_a_missing_receipt(alice_client, owner):
    assert alice_client.get(reverse("you:receipt", args=[uuid.uuid4()])).status_code == 404
