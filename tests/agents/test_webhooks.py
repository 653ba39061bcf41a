"""Signed webhooks (docs/api.md "Webhooks"): registered through the platform's paths, confined to
the key's tenant, delivered signed to a receiver on loopback, retried, and never to a deleted one."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from django.test import Client

from memportal import erasure
from memportal.agents.models import Webhook, WebhookAttempt, WebhookDelivery
from memportal.agents.services import appkey_create
from memportal.agents.webhooks import signature_verify
from memportal.memory import services
from memportal.memory.models import ErasureReceipt
from memportal.memory.tenancy import membership_for_external
from tests.agents.receiver import Receiver
from tests.factories import tenant
from tests.queue import run_webhook_deliveries

HOOKS = "/api/v1/webhooks/projects/{project}/"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The verification snippet of docs/api.md, verbatim."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False  # too old (or from the future): a replay
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def call(key: str, method: str, path: str, data: object = None):
    return getattr(Client(), method)(path, data=json.dumps(data) if data is not None else None,
                                     content_type="application/json", headers={"Authorization": f"Token {key}"})


def create(key: str, url: str, events: list[str] | None = None, project: str = "concierge_app"):
    return call(key, "post", HOOKS.format(project=project),
                {"name": "crm", "url": url, "event_types": events or ["memory_add", "memory_update",
                                                                     "memory_delete", "erasure_person"]})


def add(key: str, text: str, user_id: str = "dana") -> str:
    response = call(key, "post", "/v3/memories/add/", {"messages": [{"role": "user", "content": text}],
                                                         "user_id": user_id, "infer": False})
    assert response.status_code == 200, response.content
    return response.json()["results"][0]["id"]


def delivery_retried_once():
    """A concierge webhook whose one delivery failed once (500) and then succeeded."""
    receiver = Receiver(statuses=[500]).start()
    try:
        key = appkey_create(tenant=tenant("concierge_app"), name="crm")[1]
        create(key, receiver.url)
        add(key, "Dana prefers aisle seats")
        run_webhook_deliveries(rounds=2)
    finally:
        receiver.stop()
    return WebhookDelivery.objects.get()


def test_the_platform_paths_create_list_update_and_delete_a_webhook(concierge_key, receiver):
    made = create(concierge_key, receiver.url)
    assert made.status_code == 201, made.content
    hook = made.json()
    assert hook["secret"].startswith("whsec_") and hook["project"] == "concierge_app" and hook["is_active"]
    assert hook["event_types"] == ["memory_add", "memory_update", "memory_delete", "erasure_person"]
    listed = call(concierge_key, "get", HOOKS.format(project="concierge_app")).json()
    assert [h["webhook_id"] for h in listed] == [hook["webhook_id"]]
    assert "secret" not in listed[0]  # shown once, at creation
    updated = call(concierge_key, "put", f"/api/v1/webhooks/{hook['webhook_id']}/",
                   {"name": "crm2", "event_types": ["memory_add"]})
    assert updated.status_code == 200 and updated.json()["name"] == "crm2"
    assert Webhook.objects.get().event_types == ["memory_add"]
    gone = call(concierge_key, "delete", f"/api/v1/webhooks/{hook['webhook_id']}/")
    assert gone.status_code == 200 and "deleted" in gone.json()["message"]
    assert call(concierge_key, "get", HOOKS.format(project="concierge_app")).json() == []
    assert call(concierge_key, "delete", f"/api/v1/webhooks/{hook['webhook_id']}/").status_code == 404


@pytest.mark.parametrize("url", ["ftp://example.com/x", "javascript:alert(1)", "http://", "/relative",
                                 "http://user:pw@example.com/", "http://example.com/a b", "http://example.com:99999/",
                                 "", None, 42, ["http://x"], "http://example.com/#frag", "http://" + "a" * 2000])
def test_a_bad_url_is_a_clear_400_and_creates_nothing(concierge_key, url):
    response = create(concierge_key, url)
    assert response.status_code == 400 and "url" in response.json()["detail"], response.content
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("body", [{"name": "x", "url": "http://127.0.0.1/", "event_types": ["memory_eaten"]},
                                  {"name": "x", "url": "http://127.0.0.1/", "event_types": []},
                                  {"name": "", "url": "http://127.0.0.1/", "event_types": ["memory_add"]},
                                  {"name": "x", "url": "http://127.0.0.1/", "event_types": ["memory_add"], "x": 1}])
def test_bad_event_types_names_and_fields_are_400(concierge_key, body):
    response = call(concierge_key, "post", HOOKS.format(project="concierge_app"), body)
    assert response.status_code == 400, response.content
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "http://localhost/", "http://10.0.0.5/",
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://192.168.1.1/"])
def test_private_addresses_are_refused_when_the_guard_is_on(concierge_key, settings, url):
    settings.MEMPORTAL = {**settings.MEMPORTAL, "WEBHOOK_ALLOW_PRIVATE": False}
    response = create(concierge_key, url)
    assert response.status_code == 400 and "non-public" in response.json()["detail"], response.content
    assert not Webhook.objects.exists()


def test_the_guard_also_stops_delivery_to_an_address_registered_before_it_was_on(concierge_key, receiver, settings):
    create(concierge_key, receiver.url)
    add(concierge_key, "Dana likes tea")
    settings.MEMPORTAL = {**settings.MEMPORTAL, "WEBHOOK_ALLOW_PRIVATE": False, "WEBHOOK_MAX_ATTEMPTS": 1}
    run_webhook_deliveries()
    assert receiver.received == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "non-public" in attempt.error
    assert WebhookDelivery.objects.get().state == "failed"


def test_read_only_and_write_only_keys_cannot_create_update_or_delete(make_key, concierge_key, receiver):
    hook = create(concierge_key, receiver.url).json()
    for permissions in (("read",), ("write",)):
        key = make_key("concierge_app", permissions)
        assert create(key, receiver.url).status_code == 403
        for method, data in (("put", {"name": "hijack", "url": "http://127.0.0.1:1/"}), ("delete", None)):
            assert call(key, method, f"/api/v1/webhooks/{hook['webhook_id']}/", data).status_code == 403
            assert call(key, method, "/api/v1/webhooks/999999/", data).status_code == 403  # learns nothing
    write_only = make_key("concierge_app", ("write",))
    assert call(write_only, "get", HOOKS.format(project="concierge_app")).status_code == 403
    reader = make_key("concierge_app", ("read",))
    assert len(call(reader, "get", HOOKS.format(project="concierge_app")).json()) == 1
    assert Webhook.objects.count() == 1
    assert Webhook.objects.get().name == "crm" and Webhook.objects.get().deleted_at is None


def test_another_tenants_webhook_is_not_found_and_unchanged(concierge_key, sports_key, receiver):
    hook = create(concierge_key, receiver.url).json()
    path = f"/api/v1/webhooks/{hook['webhook_id']}/"
    assert call(sports_key, "get", path).status_code == 404
    assert call(sports_key, "put", path, {"url": "http://127.0.0.1:1/steal"}).status_code == 404
    assert call(sports_key, "delete", path).status_code == 404
    for bad in ("abc", "-1", "1.0", "99999999999999999999999"):
        assert call(sports_key, "delete", f"/api/v1/webhooks/{bad}/").status_code == 404
    assert call(sports_key, "get", HOOKS.format(project="concierge_app")).status_code == 404
    assert create(sports_key, receiver.url, project="concierge_app").status_code == 404
    assert call(sports_key, "get", HOOKS.format(project="sports_brand_portal")).json() == []
    webhook = Webhook.objects.get()
    assert webhook.url == receiver.url and webhook.deleted_at is None and webhook.tenant.slug == "concierge_app"


def test_a_memory_add_is_delivered_signed_and_verifies_with_the_documented_snippet(concierge_key, receiver):
    secret = create(concierge_key, receiver.url).json()["secret"]
    memory_id = add(concierge_key, "Dana prefers aisle seats")
    assert receiver.received == []  # from the queue, not inside the request
    run_webhook_deliveries()
    assert len(receiver.received) == 1
    body = receiver.received[0].body
    header = receiver.header(0, "X-Memportal-Signature")
    assert verify(secret, header, body) and signature_verify(secret=secret, header=header, body=body)
    assert not verify("whsec_wrong", header, body) and not verify(secret, header, body + b" ")
    event = json.loads(body)
    assert event["event_type"] == "memory_add" and receiver.header(0, "X-Memportal-Event") == "memory_add"
    assert event["id"] == receiver.header(0, "X-Memportal-Delivery")
    assert event["data"] == {"memory_id": memory_id, "event": "ADD", "user_id": "dana", "agent_id": None,
                             "run_id": None}
    assert "aisle" not in body.decode()  # ids only, never memory text
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "delivered" and delivery.attempts == 1 and "user_id" not in delivery.payload
    attempt = delivery.attempt_rows.get()
    assert attempt.status_code == 200 and attempt.error == "" and attempt.duration_ms is not None


def test_an_old_or_future_timestamp_fails_verification(concierge_key, receiver):
    secret = create(concierge_key, receiver.url).json()["secret"]
    add(concierge_key, "Dana likes tea")
    run_webhook_deliveries()
    body, header = receiver.received[0].body, receiver.header(0, "X-Memportal-Signature")
    assert not signature_verify(secret=secret, header=header, body=body, now=time.time() + 3600)
    assert not signature_verify(secret=secret, header=header, body=body, now=time.time() - 3600)


def test_updates_deletes_and_a_persons_erasure_are_delivered_without_memory_text(concierge_key, receiver):
    create(concierge_key, receiver.url)
    memory_id = add(concierge_key, "Dana prefers aisle seats")
    assert call(concierge_key, "put", f"/v1/memories/{memory_id}/", {"text": "Dana prefers window seats"}
                ).status_code == 200
    assert call(concierge_key, "delete", f"/v1/memories/{memory_id}/").status_code == 200
    add(concierge_key, "Dana likes green tea")
    assert call(concierge_key, "delete", "/v1/memories/?user_id=dana").status_code == 200
    run_webhook_deliveries()
    events = [json.loads(r.body) for r in receiver.received]
    assert [e["event_type"] for e in events] == ["memory_add", "memory_update", "memory_delete", "memory_add",
                                                 "erasure_person"]
    assert events[2]["data"]["memory_id"] == memory_id and events[2]["data"]["user_id"] == "dana"
    erasure = events[4]
    assert erasure["data"]["user_id"] == "dana" and erasure["data"]["memories_erased"] == 1
    assert erasure["event_id"] == erasure["data"]["receipt_id"]  # also /v1/event/{id}/
    assert ErasureReceipt.objects.filter(pk=erasure["event_id"]).exists()
    everything = b"".join(r.body for r in receiver.received).decode()
    assert "seats" not in everything and "tea" not in everything


def test_a_failing_receiver_gets_retries_then_success(concierge_key, receiver):
    receiver.statuses = [500, 503]
    create(concierge_key, receiver.url)
    add(concierge_key, "Dana likes tea")
    run_webhook_deliveries(rounds=5)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "delivered" and delivery.attempts == 3
    assert [(a.number, a.status_code, a.error) for a in delivery.attempt_rows.all()] == [
        (1, 500, "HTTP 500"), (2, 503, "HTTP 503"), (3, 200, "")]
    ids = {r.headers["X-Memportal-Delivery"] for r in receiver.received}
    assert len(receiver.received) == 3 and ids == {str(delivery.pk)}  # the same id every time: dedupe by it


def test_a_receiver_that_never_answers_2xx_is_given_up_after_the_last_attempt(concierge_key, receiver, settings):
    settings.MEMPORTAL = {**settings.MEMPORTAL, "WEBHOOK_MAX_ATTEMPTS": 3}
    receiver.statuses = [500] * 10
    create(concierge_key, receiver.url)
    add(concierge_key, "Dana likes tea")
    run_webhook_deliveries(rounds=6)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed" and delivery.attempts == 3 and len(receiver.received) == 3
    assert "user_id" not in delivery.payload


def test_a_redirect_is_not_followed(concierge_key, receiver, settings):
    settings.MEMPORTAL = {**settings.MEMPORTAL, "WEBHOOK_MAX_ATTEMPTS": 1}
    receiver.statuses = [302]
    create(concierge_key, receiver.url)
    add(concierge_key, "Dana likes tea")
    run_webhook_deliveries()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302 and "redirects are not followed" in attempt.error


def test_a_deleted_webhook_gets_nothing_even_what_was_already_queued(concierge_key, receiver):
    hook = create(concierge_key, receiver.url).json()
    add(concierge_key, "Dana likes tea")
    assert WebhookDelivery.objects.get().state == "pending"  # queued, not yet sent
    call(concierge_key, "delete", f"/api/v1/webhooks/{hook['webhook_id']}/")
    add(concierge_key, "Dana likes coffee")
    run_webhook_deliveries()
    assert receiver.received == []
    assert list(WebhookDelivery.objects.values_list("state", flat=True)) == ["cancelled"]


def test_a_delivery_queued_before_its_webhook_was_deleted_is_checked_when_it_runs(concierge_key, receiver):
    create(concierge_key, receiver.url)
    add(concierge_key, "Dana likes tea")
    delivery = WebhookDelivery.objects.get()
    # deleted behind the service's back (as by a concurrent request): the worker still checks
    Webhook.objects.update(deleted_at="2026-01-01T00:00:00Z")
    run_webhook_deliveries()
    delivery.refresh_from_db()
    assert receiver.received == [] and delivery.state == "cancelled" and delivery.attempts == 0


def test_only_the_event_types_asked_for_are_delivered(concierge_key, receiver):
    create(concierge_key, receiver.url, events=["erasure_person"])
    memory_id = add(concierge_key, "Dana likes tea")
    call(concierge_key, "delete", f"/v1/memories/{memory_id}/")
    assert not WebhookDelivery.objects.exists()


def test_nothing_is_sent_about_a_person_the_app_never_named(concierge_key, receiver, owner):
    create(concierge_key, receiver.url)
    record = services.memory_add(member=owner.member, messages=[{"role": "user", "content": "private note"}])[0]
    services.memory_delete(member=owner.member, memory_id=record.id)
    assert not WebhookDelivery.objects.exists()


def test_another_tenants_events_never_reach_this_tenants_webhook(concierge_key, sports_key, receiver):
    create(concierge_key, receiver.url)
    add(sports_key, "Jane's secret", user_id="jane")
    call(sports_key, "delete", "/v1/memories/?user_id=jane")
    assert not WebhookDelivery.objects.exists()


def test_a_person_leaving_takes_their_ids_out_of_deliveries_and_the_receipt_verifies(concierge_key, receiver):
    create(concierge_key, receiver.url)
    add(concierge_key, "Dana likes tea")
    add(concierge_key, "Dana likes coffee")
    member = membership_for_external(tenant=tenant("concierge_app"), external_id="dana", create=False)
    pending = WebhookDelivery.objects.filter(subject_id=member.subject_id)
    assert pending.count() == 2
    receipt = services.membership_end(member=member, via="api")
    assert receipt.lines.get(store="webhook_deliveries").erased == 2
    scope = erasure.Scope(tenant_id=member.tenant_id, app_id="concierge_app", subject_ids=(member.subject_id,),
                          ends_membership=True)
    assert erasure.count(scope=scope, fresh=False)["webhook_deliveries"] == 0  # the store's own recount
    assert not WebhookDelivery.objects.filter(subject_id=member.subject_id).exists()
    adds = WebhookDelivery.objects.filter(event_type="memory_add")
    assert set(adds.values_list("state", flat=True)) == {"cancelled"}
    assert not any("user_id" in d.payload for d in adds)
    notice = WebhookDelivery.objects.get(event_type="erasure_person")
    assert notice.subject_id is None and notice.payload["user_id"] == "dana" and notice.payload["membership_ended"]
    run_webhook_deliveries()
    assert [json.loads(r.body)["event_type"] for r in receiver.received] == ["erasure_person"]
    notice.refresh_from_db()
    assert notice.state == "delivered" and "user_id" not in notice.payload  # kept only until delivered


def test_retries_back_off_exponentially_with_procrastinates_retry_strategy(settings):
    from memportal.agents.tasks import WebhookRetry
    from memportal.agents.webhooks import DeliveryFailed

    class Job:
        def __init__(self, attempts: int) -> None:
            self.attempts = attempts

    settings.MEMPORTAL = {**settings.MEMPORTAL, "WEBHOOK_BACKOFF_BASE": 3, "WEBHOOK_MAX_ATTEMPTS": 10}
    strategy = WebhookRetry(retry_exceptions={DeliveryFailed})
    now = datetime.now(UTC)
    waits = [(strategy.get_retry_decision(exception=DeliveryFailed("500"), job=Job(n)).retry_at - now).total_seconds()
             for n in range(4)]
    assert [round(w) for w in waits] == [3, 9, 27, 81]
    assert strategy.get_retry_decision(exception=DeliveryFailed("500"), job=Job(15)) is None  # backstop
    assert strategy.get_retry_decision(exception=ValueError(), job=Job(0)) is None


def test_a_tenants_offboarding_is_announced_and_its_pending_person_events_cancelled(concierge_key, receiver):
    from memportal.offboarding import services as offboarding
    from tests.queue import run_one_job

    create(concierge_key, receiver.url, events=["memory_add", "erasure_tenant"])
    add(concierge_key, "Dana likes tea")
    offboarding.offboarding_start(tenant=tenant("concierge_app"))
    assert run_one_job() is True
    assert WebhookDelivery.objects.get(event_type="memory_add").state == "cancelled"  # Dana's ids went
    run_webhook_deliveries()
    [notice] = [json.loads(r.body) for r in receiver.received]
    assert notice["event_type"] == "erasure_tenant" and notice["data"]["kind"] == "tenant"
    assert notice["data"]["user_id"] is None and notice["data"]["membership_ended"] is True
    assert ErasureReceipt.objects.get(kind="tenant").pk == uuid.UUID(notice["event_id"])


def test_a_session_and_an_agent_erasure_are_announced_per_person(concierge_key, receiver):
    create(concierge_key, receiver.url, events=["erasure_session", "erasure_agent"])
    for text, agent, run in (("a", "travel", "trip-1"), ("b", "chef", None)):
        call(concierge_key, "post", "/v3/memories/add/", {"messages": [{"role": "user", "content": text}],
                                                         "user_id": "dana", "agent_id": agent, "run_id": run,
                                                         "infer": False})
    assert call(concierge_key, "delete", "/v1/memories/?user_id=dana&run_id=trip-1").status_code == 200
    assert call(concierge_key, "delete", "/v1/memories/?user_id=dana&agent_id=chef").status_code == 200
    run_webhook_deliveries()
    events = [json.loads(r.body) for r in receiver.received]
    assert [(e["event_type"], e["data"]["run_id"], e["data"]["agent_id"], e["data"]["user_id"]) for e in events] == [
        ("erasure_session", "trip-1", None, "dana"), ("erasure_agent", None, "chef", "dana")]
