"""Delete by date range (My Activity's last hour / last day / custom): re-authentication, a
confirmation with the count, erasure through the registry with a receipt; bad ranges change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from memportal.memory.models import ErasureReceipt, MemoryEvent
from tests.you.conftest import reauthenticate, remember, texts
from tests.you.test_retention import age, vector_rows


@pytest.fixture
def alice_timeline(owner):
    """Three memories: saved now, 5 hours ago and 3 days ago."""
    now = remember(owner, "saved just now", run_id="a")
    hours = remember(owner, "saved five hours ago", run_id="b")
    age(hours.id, 0)
    from django.db import connection

    from memportal.memory.records import TABLE

    with connection.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET payload = jsonb_set(payload, '{{created_at}}', to_jsonb(%s::text)) "
                    "WHERE id = %s", [(timezone.now() - timedelta(hours=5)).isoformat(), hours.id])
    days = remember(owner, "saved three days ago", run_id="c")
    age(days.id, 3)
    return now, hours, days


def _local(when) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def test_it_requires_reauthentication(alice_client, owner, alice_timeline):
    response = alice_client.post(reverse("you:erase_range"), {"tenant": "concierge_app", "period": "day",
                                                              "confirm": "1"})
    assert response.status_code == 302 and reverse("account_reauthenticate") in response["Location"]
    assert len(texts(owner)) == 3


def test_the_first_step_only_counts(alice_client, owner, alice_timeline):
    reauthenticate(alice_client)
    response = alice_client.post(reverse("you:erase_range"), {"tenant": "concierge_app", "period": "day"})
    assert response.status_code == 200
    assert 'data-testid="range-count"' in response.content.decode()
    assert "<strong>2</strong> memories" in response.content.decode()
    assert len(texts(owner)) == 3 and not ErasureReceipt.objects.exists()


def test_last_hour_erases_only_the_last_hour_with_a_receipt(alice_client, owner, colleague, bob_memory,
                                                            alice_timeline):
    now, hours, days = alice_timeline
    reauthenticate(alice_client)
    response = alice_client.post(reverse("you:erase_range"), {"tenant": "concierge_app", "period": "hour",
                                                              "confirm": "1"})
    receipt = ErasureReceipt.objects.get()
    assert response["Location"] == reverse("you:receipt", args=[receipt.pk])
    assert receipt.kind == "range" and receipt.memories_erased == 1 and receipt.requested_by == owner.user
    assert receipt.range_start is not None and receipt.range_end is not None
    assert texts(owner) == ["saved five hours ago", "saved three days ago"]
    assert not MemoryEvent.objects.filter(memory_id=now.id).exists()
    assert texts(colleague) == ["Bob loves steak"]  # saved in the same hour, by another person


def test_a_custom_range_erases_what_was_saved_in_it(alice_client, owner, alice_timeline):
    now, hours, days = alice_timeline
    reauthenticate(alice_client)
    start, end = timezone.now() - timedelta(days=4), timezone.now() - timedelta(hours=1)
    response = alice_client.post(reverse("you:erase_range"), {
        "tenant": "concierge_app", "period": "custom", "start": _local(start), "end": _local(end), "confirm": "1"})
    assert response.status_code == 302
    assert texts(owner) == ["saved just now"]
    assert vector_rows(owner.member.subject_id) == 1
    assert not MemoryEvent.objects.filter(memory_id__in=[hours.id, days.id]).exists()


@pytest.mark.parametrize("start_delta,end_delta,why", [
    (timedelta(hours=-1), timedelta(hours=-5), "must be after the start"),  # end before start
    (timedelta(hours=-1), timedelta(days=2), "is in the future"),
    (timedelta(days=1), timedelta(days=2), "is in the future"),
])
def test_a_bad_range_is_refused_and_changes_nothing(alice_client, owner, alice_timeline, start_delta, end_delta,
                                                    why):
    reauthenticate(alice_client)
    now = timezone.now()
    response = alice_client.post(reverse("you:erase_range"), {
        "tenant": "concierge_app", "period": "custom", "start": _local(now + start_delta),
        "end": _local(now + end_delta), "confirm": "1"})
    assert response.status_code == 400
    body = response.content.decode()
    assert why in body and "nothing was erased" in body
    assert len(texts(owner)) == 3 and not ErasureReceipt.objects.exists()


@pytest.mark.parametrize("data", [
    {"period": "custom", "start": "yesterday", "end": "today"},
    {"period": "custom", "start": "2026-13-45T99:99", "end": "2026-01-01T00:00"},
    {"period": "custom"},
    {"period": "week"},
    {"period": "hour", "tenant": "sports_brand_portal"},  # not one of alice's apps
])
def test_unparseable_or_unknown_input_is_refused(alice_client, owner, stranger, jane_memory, alice_timeline, data):
    reauthenticate(alice_client)
    response = alice_client.post(reverse("you:erase_range"), {"tenant": "concierge_app", **data, "confirm": "1"})
    assert response.status_code == 400
    assert len(texts(owner)) == 3 and texts(stranger) == ["Jane runs marathons"]
    assert not ErasureReceipt.objects.exists()


def test_an_empty_range_erases_nothing_and_says_so(alice_client, owner):
    remember(owner, "recent")
    reauthenticate(alice_client)
    start, end = timezone.now() - timedelta(days=30), timezone.now() - timedelta(days=20)
    response = alice_client.post(reverse("you:erase_range"), {
        "tenant": "concierge_app", "period": "custom", "start": _local(start), "end": _local(end), "confirm": "1"},
        follow=True)
    assert "nothing was erased" in response.content.decode()
    assert texts(owner) == ["recent"] and not ErasureReceipt.objects.exists()


def test_the_receipt_page_shows_the_range_and_links_the_signed_json(alice_client, owner, alice_timeline):
    reauthenticate(alice_client)
    response = alice_client.post(reverse("you:erase_range"), {"tenant": "concierge_app", "period": "day",
                                                              "confirm": "1"}, follow=True)
    body = response.content.decode()
    receipt = ErasureReceipt.objects.get()
    assert 'data-testid="receipt-range"' in body
    assert reverse("you:receipt_signed", args=[receipt.pk]) in body
