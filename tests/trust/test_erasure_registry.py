"""The erasure registry: every store erased, then recounted independently after commit.

Transactional tests: the recount runs on a fresh database connection after the erasing
transaction commits, so it must see committed data (a plain test transaction would hide it).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from memportal import erasure
from memportal.crypto import document_verify
from memportal.memory import selectors, services
from memportal.memory.errors import MemoryNotFound
from memportal.memory.mem0_backend import DjangoHistoryStore
from memportal.memory.models import ErasureReceipt, Membership, MemoryEvent, MemoryMessage
from memportal.memory.receipts import receipt_document_signed
from tests.factories import PASSWORD, tenant
from tests.scan import database_find

pytestmark = pytest.mark.django_db(transaction=True)


def _add(who, text: str, **scope):
    return services.memory_add(member=who.member, messages=text, **scope)[0]


def test_a_receipt_has_one_line_per_store_recounted_after_commit(owner):
    _add(owner, "Alice is vegetarian", agent_id="concierge", run_id="s1")
    receipt = services.memory_delete_all(member=owner.member)
    receipt.refresh_from_db()
    lines = {line.store: line for line in receipt.lines.all()}
    assert {"vectors", "history", "messages", "entities", "export_files", "staff_search_text"} <= set(lines)
    assert lines["vectors"].erased == 1 and lines["history"].erased == 1
    assert all(line.remaining == 0 for line in lines.values())
    assert receipt.verified and receipt.verified_at is not None


def test_the_recount_is_independent_of_what_the_erasure_did(owner, monkeypatch):
    """A store that 'forgets' to erase is caught by the recount: the receipt is not verified.

    (Before the registry, receipts only recounted the vector rows just deleted, in the same
    transaction, so a history row left behind still showed "0 remaining".)"""
    _add(owner, "Alice's private note")
    monkeypatch.setattr(erasure.History, "erase", lambda self, run, cursor: 0)
    receipt = services.memory_delete_all(member=owner.member)
    receipt.refresh_from_db()
    assert not receipt.verified and receipt.remaining_after == 1
    assert receipt.lines.get(store="history").remaining == 1


def test_history_rows_carry_their_scope_and_are_counted_by_it(owner):
    record = _add(owner, "Alice likes tea", agent_id="chef", run_id="r1")
    event = MemoryEvent.objects.get(memory_id=record.id)
    assert (event.app_id, event.subject_id, event.agent_id, event.run_id) == (
        "concierge_app", owner.member.subject_id, "chef", "r1")
    scope = services._scope(owner.member)
    assert erasure.count(scope=scope)["history"] == 1


def test_erasing_a_person_leaves_no_text_in_any_table(owner, colleague):
    _add(owner, "Alice secret zebra-771")
    services.memory_update(member=owner.member, memory_id=selectors.memory_list(member=owner.member).items[0].id,
                           text="Alice secret zebra-772")
    DjangoHistoryStore().save_messages([{"role": "user", "content": "Alice secret zebra-773"}],
                                       f"user_id={owner.member.subject_id}")
    _add(colleague, "Bob keeps this")
    services.membership_end(member=owner.member, account=owner.user)
    assert database_find(["zebra-771", "zebra-772", "zebra-773"]) == []
    assert database_find(["Bob keeps this"]) != []


def test_ending_a_membership_replaces_the_apps_external_id_with_a_keyed_hash():
    from memportal.agents.services import appkey_create

    client = Client()
    key = appkey_create(tenant=tenant("concierge_app"), name="app")[1]
    auth = {"Authorization": f"Token {key}"}
    assert client.post("/v3/memories/add/", {"messages": [{"role": "user", "content": "I am Carol"}],
                                             "user_id": "carol@example.org"},
                       content_type="application/json", headers=auth).status_code == 200
    member = Membership.objects.get(external_id="carol@example.org")
    services.membership_end(member=member)
    member.refresh_from_db()
    assert member.external_id is None and len(member.external_id_hash) == 64
    assert database_find(["carol@example.org"]) == []
    # The app's next write for the same id is recognised as the erased person: 410, nothing stored.
    again = client.post("/v3/memories/add/", {"messages": [{"role": "user", "content": "Carol again"}],
                                              "user_id": "carol@example.org"},
                        content_type="application/json", headers=auth)
    assert again.status_code == 410
    assert database_find(["Carol again"]) == []


def test_account_deletion_ends_every_other_session_of_the_account(owner):
    first, second = Client(), Client()
    assert first.login(username=owner.user.username, password=PASSWORD)
    assert second.login(username=owner.user.username, password=PASSWORD)
    first.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = first.post(reverse("you:account_delete"), {"confirm": "delete my account"})
    assert response.status_code == 302
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM django_session")
        sessions_left = cur.fetchone()[0]
    assert sessions_left <= 1  # only the anonymous one carrying the receipt ids
    assert second.get(reverse("you:list")).status_code == 302  # signed out
    assert database_find([owner.email]) == []


def test_a_signed_receipt_verifies_and_a_tampered_one_does_not(owner):
    _add(owner, "Alice is vegetarian")
    receipt = services.memory_delete_all(member=owner.member)
    receipt.refresh_from_db()
    signed = receipt_document_signed(receipt=receipt)
    assert document_verify(signed)
    assert signed["receipt"]["verified"] is True and signed["receipt"]["stores"]
    signed["receipt"]["stores"][0]["remaining"] = 0 if signed["receipt"]["stores"][0]["remaining"] else 7
    assert not document_verify(signed)


def test_the_person_downloads_their_signed_receipt_and_nobody_else_can(owner, colleague):
    _add(owner, "Alice is vegetarian")
    receipt = services.memory_delete_all(member=owner.member)
    alice, bob = Client(), Client()
    alice.force_login(owner.user)
    bob.force_login(colleague.user)
    url = reverse("you:receipt_signed", args=[receipt.pk])
    response = alice.get(url)
    assert response.status_code == 200 and document_verify(response.json())
    assert bob.get(url).status_code == 404
    assert bob.get(reverse("you:receipt", args=[receipt.pk])).status_code == 404


def test_a_correction_racing_an_erasure_never_leaves_its_text_behind(owner, monkeypatch):
    """The correction holds the memory's row lock; the erasure waits for it, then erases its history.

    Without the lock the erasure committed first and mem0 then wrote the corrected text into a
    history row (it writes history even when its UPDATE matched no row)."""
    record = _add(owner, "Alice's old address")
    from memportal.memory import mem0_backend

    memory = mem0_backend.get_memory()
    real_update = memory.update
    entered, release, errors = threading.Event(), threading.Event(), []

    def slow_update(memory_id, *args, **kw):
        entered.set()
        release.wait(10)
        return real_update(memory_id, *args, **kw)

    monkeypatch.setattr(memory, "update", slow_update)

    def correct() -> None:
        try:
            services.memory_update(member=owner.member, memory_id=record.id, text="Alice's new secret address")
        except MemoryNotFound:
            pass
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=correct)
    thread.start()
    assert entered.wait(30)
    eraser = threading.Thread(target=lambda: (services.memory_delete_all(member=owner.member), connection.close()))
    eraser.start()
    time.sleep(0.5)
    release.set()
    thread.join(30)
    eraser.join(30)
    assert errors == []
    assert database_find(["new secret address", "old address"]) == []


def test_two_simultaneous_deletes_of_one_memory_give_one_receipt_and_one_404(owner):
    record = _add(owner, "Delete me twice")
    results: list = []
    barrier = threading.Barrier(2)

    def delete() -> None:
        try:
            barrier.wait(10)
            results.append(services.memory_delete(member=owner.member, memory_id=record.id))
        except MemoryNotFound as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=delete) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(type(r).__name__ for r in results) == ["ErasureReceipt", "MemoryNotFound"]
    assert ErasureReceipt.objects.filter(kind="memory").count() == 1


def test_raw_messages_of_a_session_are_erased_with_the_session_only(owner):
    store = DjangoHistoryStore()
    sid = owner.member.subject_id
    store.save_messages([{"role": "user", "content": "trip message"}], f"run_id=trip&user_id={sid}")
    store.save_messages([{"role": "user", "content": "other message"}], f"run_id=other&user_id={sid}")
    with transaction.atomic():
        _add(owner, "on the trip", run_id="trip")
    services.memory_delete_all(member=owner.member, run_id="trip")
    assert list(MemoryMessage.objects.values_list("content", flat=True)) == ["other message"]
