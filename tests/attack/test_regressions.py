"""Plain regression tests for what the attack state machine found (tests/attack/test_state_machine.py).

One test per bug, each the smallest reproduction of what the machine reported (docs/security.md
lists them). A bug found and not fixed yet gets its test marked ``xfail(strict=True, reason=...)``
and an entry in the machine's KNOWN_BUGS; when the fix lands the test XPASSes, which fails the
suite, and the mark and the entry go. Bugs 1-4 are fixed; bug 5 is open.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from memportal.agents.services import appkey_create
from memportal.memory.models import Membership
from memportal.memory.services import membership_end
from memportal.offboarding.services import offboarding_run, offboarding_start
from tests.factories import person, tenant
from tests.scan import database_find

pytestmark = pytest.mark.django_db(transaction=True)


def _api(raw: str, method: str, path: str, body: dict | None = None):
    client = Client()
    return client.generic(method, path, json.dumps(body or {}), content_type="application/json",
                          headers={"Authorization": f"Token {raw}"})


def _export_request_for(raw: str, external_id: str) -> None:
    assert _api(raw, "POST", "/v1/memories/", {"messages": [{"role": "user", "content": "Likes tea"}],
                                                 "user_id": external_id}).status_code == 200
    assert _api(raw, "POST", "/v1/exports/", {"filters": {"user_id": external_id}}).status_code == 201


# --- bug 1 (b): API export requests (agents_memoryexportrequest.filters) kept the app's user_id of a
# person whose membership ended (account deletion or offboarding): no erasure store covered them.
def test_an_ended_persons_external_id_leaves_no_trace_in_api_export_requests():
    _, raw = appkey_create(tenant=tenant("concierge_app"), name="app", permissions=("read", "write"))
    _export_request_for(raw, "cust-4711-leaving")
    member = Membership.objects.get(external_id="cust-4711-leaving")
    membership_end(member=member, via="you")
    assert database_find(["cust-4711-leaving"]) == []


def test_an_offboarded_tenants_external_ids_leave_no_trace_in_api_export_requests():
    _, raw = appkey_create(tenant=tenant("sports_brand_portal"), name="app", permissions=("read", "write"))
    _export_request_for(raw, "cust-4712-offboarded")
    offboarding_run(job=offboarding_start(tenant=tenant("sports_brand_portal")))
    assert database_find(["cust-4712-offboarded"]) == []


# --- bug 2 (c): a background export was logged once, when queued, naming the people who had memories
# then; the file was written later and downloaded (by the requester or any superuser) without another
# access record: people added meanwhile, and a superuser downloading it, never appeared on "Who looked".


def _queue_export(client: Client, slug: str) -> str:
    response = client.post(f"/staff/{slug}/export/jobs/", {"fmt": "jsonl"})
    assert response.status_code == 302
    return response["Location"]


def _download(client: Client, job_url: str) -> bytes:
    from memportal.staff.services import export_job_claim, export_job_process

    export_job_process(job=export_job_claim())
    response = client.get(job_url + "download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_a_person_whose_memories_reach_a_queued_export_sees_it_on_who_looked(settings, export_dir):
    from memportal.memory.services import memory_add
    from memportal.staff.selectors import access_records_for_member

    staff = person("export_staff", "concierge_app", role="staff")
    client = Client()
    client.force_login(staff.user)
    job_url = _queue_export(client, "concierge_app")
    late = person("late_person", "concierge_app")  # joins (and is remembered) after the export was queued
    memory_add(member=late.member, messages="Late person's secret 5501")
    assert b"Late person's secret 5501" in _download(client, job_url)
    assert access_records_for_member(member=late.member).filter(actor=staff.user).exists()


def test_a_superuser_downloading_a_staff_export_is_on_who_looked(settings, export_dir):
    from django.contrib.auth import get_user_model

    from memportal.memory.services import memory_add
    from memportal.staff.selectors import access_records_for_member

    staff = person("export_staff2", "concierge_app", role="staff")
    alice = person("alice_exported", "concierge_app")
    memory_add(member=alice.member, messages="Alice's secret 5502")
    client = Client()
    client.force_login(staff.user)
    job_url = _queue_export(client, "concierge_app")
    root = get_user_model().objects.create_superuser(username="root5502", email="root5502@example.com")
    admin = Client()
    admin.force_login(root)
    assert b"Alice's secret 5502" in _download(admin, job_url)
    assert access_records_for_member(member=alice.member).filter(actor=root).exists()


# --- bug 3 (a): adding a text the person already has answered event NOOP with that existing memory (id,
# agent_id, run_id, metadata, times), also to a write-only key: a key without "read" learnt which memory
# existed and its metadata.


def test_a_write_only_key_learns_nothing_about_existing_memories():
    slug = tenant("concierge_app")
    _, full = appkey_create(tenant=slug, name="chef agent", permissions=("read", "write"))
    _, write_only = appkey_create(tenant=slug, name="ingest only", permissions=("write",))
    said = [{"role": "user", "content": "I take my coffee black"}]
    first = _api(full, "POST", "/v1/memories/", {"messages": said, "user_id": "cust-5503", "agent_id": "chef",
                                                 "metadata": {"note": "private-5503"}})
    assert first.status_code == 200
    probe = _api(write_only, "POST", "/v1/memories/", {"messages": said, "user_id": "cust-5503"})
    assert probe.status_code == 200
    assert "private-5503" not in probe.content.decode()
    assert first.json()["results"][0]["id"] not in probe.content.decode()


# --- bug 4 (b): deleting an account with no live membership left (its tenant was offboarded) ran no
# erasure at all, so the Sessions and Caches stores never ran: the account's other sessions stayed in
# django_session, holding its email (allauth's sign-in record) and the deleted user's id.


def test_deleting_an_account_after_its_tenant_was_offboarded_ends_every_session(settings):
    from tests.attack.model import sessions_holding
    from tests.factories import PASSWORD

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    bella = person("bella_5504", "sports_brand_portal")
    phone, laptop = Client(), Client()
    for device in (phone, laptop):
        assert device.post("/accounts/login/", {"login": bella.email, "password": PASSWORD}).status_code == 302
    offboarding_run(job=offboarding_start(tenant=tenant("sports_brand_portal")))
    assert laptop.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    deleted = laptop.post("/you/account/delete/", {"confirm": "delete my account"})
    assert deleted.status_code == 302 and deleted["Location"] == "/you/account/deleted/"
    assert sessions_holding([bella.email]) == []


# --- bug 5 (b), fixed: after a person's erasure the app could name their (erased) id again in an
# export request: it was accepted (201) and stored in clear in agents_memoryexportrequest.filters. Now
# any request naming an erased person's id answers 410 and stores nothing (access_member_for_key).
def test_an_export_request_cannot_name_an_erased_person_again():
    _, raw = appkey_create(tenant=tenant("concierge_app"), name="app", permissions=("read", "write"))
    said = {"messages": [{"role": "user", "content": "Likes tea"}], "user_id": "cust-4713-gone"}
    assert _api(raw, "POST", "/v1/memories/", said).status_code == 200
    membership_end(member=Membership.objects.get(external_id="cust-4713-gone"), via="you")
    assert _api(raw, "POST", "/v1/memories/", said).status_code == 410
    named = _api(raw, "POST", "/v1/exports/", {"filters": {"OR": [{"user_id": "cust-4713-gone"}, {"user_id": "x1"}]}})
    assert named.status_code == 410
    assert database_find(["cust-4713-gone"]) == []
