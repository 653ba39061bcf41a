"""The provenance and read ledger of a memory (/you/memories/<id>/, the download's ``ledger``):
every read by an app key (API get, list, search, history, export) and every staff page that
showed it, counted per memory, reader and day with one statement per request."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from memportal.agents.services import appkey_create
from memportal.memory import services
from memportal.memory.models import Membership, MemoryRead
from memportal.staff.services import access_record_write
from tests.factories import tenant
from tests.you.conftest import remember


@pytest.fixture
def app_key(db):
    return appkey_create(tenant=tenant("concierge_app"), name="concierge backend", permissions=("read", "write"))


def _api(key_raw: str, method: str, path: str, body: dict | None = None):
    return getattr(Client(), method)(path, data=json.dumps(body) if body is not None else None,
                                     content_type="application/json", HTTP_AUTHORIZATION=f"Token {key_raw}")


@pytest.fixture
def named_alice(owner):
    """Alice's membership as the app names her (a portal link gives her browser the same one)."""
    Membership.objects.filter(pk=owner.member.pk).update(external_id="alice-ext")
    owner.member.refresh_from_db()
    return owner


def test_every_api_read_is_counted_per_memory_and_day(named_alice, app_key, alice_memory, colleague, bob_memory):
    key, raw = app_key
    Membership.objects.filter(pk=colleague.member.pk).update(external_id="bob-ext")
    assert _api(raw, "get", f"/v1/memories/{alice_memory.id}/").status_code == 200
    assert _api(raw, "post", "/v2/memories/", {"filters": {"user_id": "alice-ext"}}).status_code == 200
    search = _api(raw, "post", "/v2/memories/search/", {"query": "vegetarian", "filters": {"user_id": "*"},
                                                              "threshold": 0})
    assert search.status_code == 200
    assert _api(raw, "get", f"/v1/memories/{alice_memory.id}/history/").status_code == 200
    export = _api(raw, "post", "/v1/exports/get/", {"filters": {"user_id": "alice-ext"}})
    b"".join(export.streaming_content)
    row = MemoryRead.objects.get(memory_id=alice_memory.id)
    assert (row.via, row.reader, row.count) == ("key", f"mpk_{key.prefix}_", 5)
    assert row.subject_id == named_alice.member.subject_id and row.agent_id == "concierge"
    assert MemoryRead.objects.get(memory_id=bob_memory.id).count == 1  # only the wildcard search returned it


def test_a_whole_page_is_counted_in_one_statement(named_alice, app_key):
    _, raw = app_key
    for n in range(30):
        remember(named_alice, f"alice fact {n}")
    with CaptureQueriesContext(connection) as queries:
        assert _api(raw, "post", "/v2/memories/", {"filters": {"user_id": "alice-ext"}}).status_code == 200
    inserts = [q for q in queries.captured_queries if "INSERT INTO memory_memoryread" in q["sql"]]
    assert len(inserts) == 1
    assert MemoryRead.objects.count() == 30


def test_staff_pages_count_each_memory_they_show(client, staff, owner, alice_memory):
    client.force_login(staff.user)
    assert client.get(reverse("staff:audit", args=["concierge_app"])).status_code == 200
    row = MemoryRead.objects.get(memory_id=alice_memory.id)
    assert (row.via, row.reader, row.count) == ("staff", staff.email, 1)


def test_the_memory_page_shows_provenance_corrections_and_reads(alice_client, named_alice, app_key, alice_memory,
                                                                staff):
    _, raw = app_key
    services.memory_update(member=named_alice.member, memory_id=alice_memory.id, text="Alice is vegan")
    _api(raw, "get", f"/v1/memories/{alice_memory.id}/")
    _api(raw, "get", f"/v1/memories/{alice_memory.id}/")
    access_record_write(tenant=named_alice.member.tenant, actor=staff.user, action="export", flt={},
                        subject_ids=[named_alice.member.subject_id], memories_shown=1)
    response = alice_client.get(reverse("you:detail", args=[alice_memory.id]))
    ledger = response.context["ledger"]
    assert ledger.app_id == "concierge_app" and ledger.agent_id == "concierge" and ledger.run_id == "alice-s1"
    assert ledger.written is not None and len(ledger.corrections) == 1
    assert ledger.totals.by_apps == 2 and ledger.totals.by_staff == 0
    assert [r.action for r in ledger.staff_looks] == ["export"]
    body = response.content.decode()
    assert "Who read this memory" in body and "concierge_staff@example.com" in body


def test_the_ledger_of_another_persons_memory_is_not_found(alice_client, owner, bob_memory, jane_memory, app_key):
    for memory in (bob_memory, jane_memory):
        assert alice_client.get(reverse("you:detail", args=[memory.id])).status_code == 404


def test_a_colleague_never_sees_alices_reads(client, named_alice, colleague, app_key, alice_memory):
    _, raw = app_key
    _api(raw, "get", f"/v1/memories/{alice_memory.id}/")
    b = remember(colleague, "Bob loves steak")
    client.force_login(colleague.user)
    response = client.get(reverse("you:detail", args=[b.id]))
    assert response.context["ledger"].totals.by_apps == 0 and response.context["ledger"].reads == []


def test_the_download_has_the_ledger(alice_client, named_alice, app_key, alice_memory, colleague, bob_memory):
    key, raw = app_key
    Membership.objects.filter(pk=colleague.member.pk).update(external_id="bob-ext")
    _api(raw, "post", "/v2/memories/", {"filters": {"user_id": "*"}})
    data = json.loads(b"".join(alice_client.get(reverse("you:export")).streaming_content))
    assert [(r["memory_id"], r["via"], r["reader"], r["count"]) for r in data["ledger"]["reads"]] == [
        (alice_memory.id, "key", f"mpk_{key.prefix}_", 1)]  # Bob's reads are not in Alice's download
    assert set(data["ledger"]["reads"][0]) == {"memory_id", "day", "via", "reader", "count", "last_at"}


@pytest.mark.django_db(transaction=True)
def test_erasure_removes_the_ledger_and_the_receipt_counts_it(owner, colleague):
    key, raw = appkey_create(tenant=tenant("concierge_app"), name="k", permissions=("read",))
    Membership.objects.filter(pk=owner.member.pk).update(external_id="alice-ext")
    a1, a2 = remember(owner, "alice one l1"), remember(owner, "alice two l2", agent_id="other")
    b = remember(colleague, "bob one l3")
    Membership.objects.filter(pk=colleague.member.pk).update(external_id="bob-ext")
    _api(raw, "post", "/v2/memories/", {"filters": {"user_id": "*"}})
    assert MemoryRead.objects.count() == 3
    one = services.memory_delete(member=owner.member, memory_id=a1.id)  # one memory
    assert not MemoryRead.objects.filter(memory_id=a1.id).exists()
    one.refresh_from_db()
    assert one.lines.get(store="memory_reads").erased == 1 and one.verified
    services.memory_delete_all(member=owner.member, agent_id="other")  # an agent's
    assert not MemoryRead.objects.filter(memory_id=a2.id).exists()
    assert MemoryRead.objects.filter(memory_id=b.id).count() == 1  # Bob's ledger stays
    from tests.scan import database_find

    services.membership_end(member=colleague.member)
    assert not MemoryRead.objects.exists()
    assert not any("memoryread" in str(hit) for hit in database_find([colleague.member.subject_id]))
