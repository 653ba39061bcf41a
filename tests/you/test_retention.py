"""Auto-delete: the person's choice per app, the tenant default, and the nightly job that erases
what is older through the erasure registry with a receipt (proven by looking in the database)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from memportal.memory.models import ErasureReceipt, Membership, MemoryEvent, MemoryFeedback, MemoryMessage
from memportal.memory.records import TABLE
from memportal.memory.retention import months_before, retention_run
from tests.you.conftest import remember, texts


def age(memory_id: str, days: int) -> None:
    """Make a memory look saved ``days`` ago (as an app would have, long before today)."""
    when = (timezone.now() - timedelta(days=days)).isoformat()
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET payload = jsonb_set(payload, '{{created_at}}', to_jsonb(%s::text)) "
                    "WHERE id = %s", [when, memory_id])


def vector_rows(subject_id: str) -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE payload->>'user_id' = %s", [subject_id])
        return cur.fetchone()[0]


def choose(member: Membership, months: int | None) -> None:
    Membership.objects.filter(pk=member.pk).update(retention_months=months)


# --- the page ---------------------------------------------------------------------------------------
def test_it_shows_one_choice_per_app_of_the_person(alice_client, owner, stranger):
    from tests.factories import person

    person("alice", "sports_brand_portal")  # alice is in two apps; jane's own choice is not shown
    response = alice_client.get(reverse("you:retention"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="retention-concierge_app"' in body and 'id="retention-sports_brand_portal"' in body
    assert body.count("<form method=\"post\" action=\"/you/auto-delete/\"") == 2


def test_it_saves_the_persons_choice_for_that_app_only(alice_client, owner, colleague):
    response = alice_client.post(reverse("you:retention"), {"tenant": "concierge_app", "retention": "3"})
    assert response.status_code == 302
    owner.member.refresh_from_db()
    colleague.member.refresh_from_db()
    assert owner.member.retention_months == 3 and colleague.member.retention_months is None
    alice_client.post(reverse("you:retention"), {"tenant": "concierge_app", "retention": "default"})
    owner.member.refresh_from_db()
    assert owner.member.retention_months is None


@pytest.mark.parametrize("slug", ["sports_brand_portal", "", "*"])
def test_it_refuses_an_app_the_person_is_not_in(alice_client, owner, stranger, slug):
    response = alice_client.post(reverse("you:retention"), {"tenant": slug, "retention": "3"})
    assert response.status_code == 404
    owner.member.refresh_from_db()
    assert owner.member.retention_months is None
    stranger.member.refresh_from_db()
    assert stranger.member.retention_months is None


@pytest.mark.parametrize("value", ["7", "", "never", "-1", "3;drop"])
def test_it_refuses_a_choice_that_is_not_offered_and_changes_nothing(alice_client, owner, value):
    response = alice_client.post(reverse("you:retention"), {"tenant": "concierge_app", "retention": value})
    assert response.status_code == 400
    owner.member.refresh_from_db()
    assert owner.member.retention_months is None


def test_it_needs_a_signed_in_person(client):
    assert client.get(reverse("you:retention")).status_code == 302


# --- the job ----------------------------------------------------------------------------------------
def test_the_job_erases_what_is_older_than_the_choice_and_nothing_else(owner, colleague, stranger,
                                                                        django_capture_on_commit_callbacks):
    old = remember(owner, "Alice liked jazz in 2020", run_id="old")
    age(old.id, 200)
    new = remember(owner, "Alice likes techno now", run_id="new")
    bob_old = remember(colleague, "Bob's old fact")
    age(bob_old.id, 400)
    jane_old = remember(stranger, "Jane's old fact")
    age(jane_old.id, 400)
    MemoryFeedback.objects.create(tenant=owner.member.tenant, memory_id=old.id, subject_id=owner.member.subject_id,
                                  rating="NEGATIVE", reason="wrong", key_prefix="abc")
    old_msg = MemoryMessage.objects.create(session_scope=f"user_id={owner.member.subject_id}",
                                           subject_id=owner.member.subject_id, role="user", content="old raw message")
    MemoryMessage.objects.filter(pk=old_msg.pk).update(created_at=timezone.now() - timedelta(days=200))
    MemoryMessage.objects.create(session_scope=f"user_id={owner.member.subject_id}",
                                 subject_id=owner.member.subject_id, role="user", content="new raw message")
    choose(owner.member, 3)

    with django_capture_on_commit_callbacks(execute=True):
        receipts = retention_run()

    assert len(receipts) == 1
    receipt = ErasureReceipt.objects.get(pk=receipts[0].pk)
    assert receipt.kind == "retention" and receipt.requested_via == "retention"
    assert receipt.memories_erased == 1 and receipt.message_rows_erased == 1
    assert receipt.membership_id == owner.member.pk and receipt.range_start is None
    assert receipt.verified_at is not None and receipt.remaining_after == 0
    assert texts(owner) == ["Alice likes techno now"]
    # Looked for in the database: no vector, history, feedback or message row of the erased memory.
    assert not MemoryEvent.objects.filter(memory_id=old.id).exists()
    assert not MemoryEvent.objects.filter(new_memory__contains="jazz").exists()
    assert not MemoryFeedback.objects.filter(memory_id=old.id).exists()
    assert list(MemoryMessage.objects.filter(subject_id=owner.member.subject_id)
                .values_list("content", flat=True)) == ["new raw message"]
    assert MemoryEvent.objects.filter(memory_id=new.id).exists()
    # colleague and stranger did not choose auto-delete and their apps' default is "never"
    assert texts(colleague) == ["Bob's old fact"] and texts(stranger) == ["Jane's old fact"]


def test_the_job_is_idempotent(owner):
    age(remember(owner, "old").id, 200)
    choose(owner.member, 3)
    assert len(retention_run()) == 1
    assert retention_run() == []
    assert ErasureReceipt.objects.count() == 1


def test_the_job_works_in_batches_each_with_its_receipt(owner):
    for n in range(5):
        age(remember(owner, f"old fact {n}", run_id=f"r{n}").id, 400 + n)
    choose(owner.member, 3)
    receipts = retention_run(batch_size=2)
    assert [r.memories_erased for r in receipts] == [2, 2, 1]
    assert vector_rows(owner.member.subject_id) == 0


def test_a_batch_left_by_a_killed_run_is_finished_by_the_next(owner):
    """Resumable: a run that stopped after one batch leaves whole batches; the next takes the rest."""
    from memportal.memory.retention import memory_erase_window

    for n in range(3):
        age(remember(owner, f"old fact {n}", run_id=f"r{n}").id, 400)
    choose(owner.member, 3)
    cutoff = months_before(timezone.now(), 3)
    memory_erase_window(member=owner.member, start=None, end=cutoff, kind="retention", via="retention", limit=1)
    assert vector_rows(owner.member.subject_id) == 2
    assert sum(r.memories_erased for r in retention_run()) == 2
    assert vector_rows(owner.member.subject_id) == 0


def test_the_tenant_default_applies_until_the_person_chooses(owner, colleague):
    age(remember(owner, "alice old").id, 800)
    age(remember(colleague, "bob old").id, 800)
    owner.member.tenant.retention_months = 18
    owner.member.tenant.save()
    choose(colleague.member, 0)  # bob chose "never": the default does not apply to him
    retention_run()
    assert texts(owner) == [] and texts(colleague) == ["bob old"]


def test_a_longer_choice_keeps_what_a_shorter_one_would_erase(owner):
    age(remember(owner, "a year old").id, 365)
    choose(owner.member, 18)
    assert retention_run() == []
    assert texts(owner) == ["a year old"]


def test_the_job_leaves_ended_memberships_and_offboarded_tenants(owner, stranger):
    age(remember(stranger, "jane old").id, 800)
    choose(stranger.member, 3)
    stranger.member.tenant.offboarded_at = timezone.now()
    stranger.member.tenant.save()
    assert retention_run() == []


def test_a_memory_whose_time_does_not_parse_is_never_chosen_by_date(owner):
    memory = remember(owner, "odd time")
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET payload = jsonb_set(payload, '{{created_at}}', '\"last tuesday\"') "
                    "WHERE id = %s", [memory.id])
    choose(owner.member, 3)
    assert retention_run() == []
    assert texts(owner) == ["odd time"]


def test_months_before_clamps_to_the_end_of_a_shorter_month():
    from datetime import UTC, datetime

    assert months_before(datetime(2026, 5, 31, 12, tzinfo=UTC), 3) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 36) == datetime(2023, 1, 15, tzinfo=UTC)


def test_the_receipt_is_on_the_persons_receipts_page_with_its_signed_download(alice_client, owner, colleague):
    age(remember(owner, "old").id, 200)
    choose(owner.member, 3)
    receipt = retention_run()[0]
    page = alice_client.get(reverse("you:receipts")).content.decode()
    assert reverse("you:receipt", args=[receipt.pk]) in page
    assert reverse("you:receipt_signed", args=[receipt.pk]) in page
    detail = alice_client.get(reverse("you:receipt", args=[receipt.pk])).content.decode()
    assert reverse("you:receipt_signed", args=[receipt.pk]) in detail and "auto-delete choice" in detail
    signed = alice_client.get(reverse("you:receipt_signed", args=[receipt.pk])).json()
    from memportal.crypto import document_verify

    assert signed["receipt"]["kind"] == "retention" and signed["receipt"]["scope"]["range_end"] is not None
    assert document_verify(signed)
    # bob sees neither the receipt nor a link to it
    from django.test import Client

    bob = Client()
    bob.force_login(colleague.user)
    assert reverse("you:receipt", args=[receipt.pk]) not in bob.get(reverse("you:receipts")).content.decode()
    assert bob.get(reverse("you:receipt", args=[receipt.pk])).status_code == 404
    assert bob.get(reverse("you:receipt_signed", args=[receipt.pk])).status_code == 404


def test_the_periodic_task_is_registered():
    from memportal.memory.tasks import retention_task
    from memportal.queue import app

    assert retention_task.name == "memory.retention"
    assert any(p.task.name == "memory.retention" for p in app.periodic_registry.periodic_tasks.values())


def test_the_receipts_page_lists_an_offboarding_of_an_app_the_person_was_in(alice_client, owner, stranger):
    from memportal.memory.services import memory_delete_all

    own = memory_delete_all(member=owner.member)  # alice's own erasure
    offboarded = ErasureReceipt.objects.create(
        tenant=owner.member.tenant, membership=None, kind="tenant", started_at=timezone.now(),
        finished_at=timezone.now())
    janes = memory_delete_all(member=stranger.member)
    page = alice_client.get(reverse("you:receipts")).content.decode()
    assert str(own.pk) in page and str(offboarded.pk) in page and str(janes.pk) not in page
