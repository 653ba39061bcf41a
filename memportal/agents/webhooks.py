"""Signed webhooks: a tenant's app hears of memory changes and erasures (GDPR Art. 19).

Registering (``webhook_create``/``_update``/``_delete``): only http/https URLs, and unless
``MEMPORTAL["WEBHOOK_ALLOW_PRIVATE"]`` no URL whose host is or resolves to a private, loopback,
link-local or otherwise non-public address (checked when registered and again before every send).

Events are emitted where they happen, inside the writing transaction: ``memory_events_emit``
where memory history is written (mem0's history store, the fast ingest path), and
``erasure_event_emit`` where an erasure receipt is created. Each makes one ``WebhookDelivery``
row per matching webhook in that same transaction and defers the queue task on commit, so a
rolled-back write notifies nobody. A tenant with no webhooks pays one indexed query per write.

Delivering (``webhook_deliver``, run by ``tasks.webhook_deliver_task``): POST of a JSON body
signed with the webhook's secret::

    X-Memportal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>

A 2xx answer is success. Anything else (an error status, a redirect, a timeout) is retried by
procrastinate with exponential backoff until ``WEBHOOK_MAX_ATTEMPTS``; each attempt is recorded
(``WebhookAttempt``) for the tenant's staff. Delivery is at least once: a worker killed after
sending but before recording the answer sends again, with the same delivery id.

Payloads hold ids, never memory text (a receiver fetches a memory with ``get(memory_id)``, which
is owner-checked and shown to the person as a look).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from memportal.memory.errors import InvalidInput
from memportal.memory.models import ErasureReceipt, Membership, Tenant

from .models import AppKey, Webhook, WebhookAttempt, WebhookDelivery

#: Event types a webhook can ask for. ``memory_categorize`` is accepted because the platform's
#: clients offer it, but never fires: memportal does not categorise memories.
EVENT_TYPES = (
    "memory_add", "memory_update", "memory_delete", "memory_categorize",
    "erasure_person", "erasure_session", "erasure_agent", "erasure_tenant",
)
HISTORY_EVENTS = {"ADD": "memory_add", "UPDATE": "memory_update", "DELETE": "memory_delete"}
RECEIPT_EVENTS = {
    ErasureReceipt.Kind.MEMORY: "memory_delete",
    ErasureReceipt.Kind.RUN: "erasure_session",
    ErasureReceipt.Kind.AGENT: "erasure_agent",
    ErasureReceipt.Kind.ALL: "erasure_person",
    ErasureReceipt.Kind.ACCOUNT: "erasure_person",
    ErasureReceipt.Kind.TENANT: "erasure_tenant",
}
SIGNATURE_HEADER = "X-Memportal-Signature"
DELIVERY_HEADER = "X-Memportal-Delivery"
EVENT_HEADER = "X-Memportal-Event"
MAX_WEBHOOKS_PER_TENANT = 20
MAX_URL_LENGTH = 2000


class DeliveryFailed(Exception):
    """This attempt got no 2xx answer; the queue retries it later (with backoff)."""


# --- registering ------------------------------------------------------------------------------------
def url_address_refused(host: str) -> str | None:
    """Why ``host`` may not receive webhooks (a non-public address), or None. Resolved here, as a
    connection would, so a public name pointing at 127.0.0.1 or 169.254.169.254 is refused too."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return "its host name does not resolve"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return f"its host resolves to a non-public address ({address})"
    return None


def _allow_private() -> bool:
    return bool(settings.MEMPORTAL["WEBHOOK_ALLOW_PRIVATE"])


def webhook_url_clean(value: Any) -> str:
    """An absolute http(s) URL with a host, no credentials, no fragment; a public address unless
    private ones are allowed. InvalidInput (a 400) otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("url", "must be an http or https URL")
    url = value.strip()
    if len(url) > MAX_URL_LENGTH or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise InvalidInput("url", f"must be an http or https URL of at most {MAX_URL_LENGTH} characters, "
                                  "without spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
    except ValueError:
        raise InvalidInput("url", "is not a valid URL") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise InvalidInput("url", "must be an http or https URL")
    if not parts.hostname:
        raise InvalidInput("url", "must name a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url", "must not contain a user name or password")
    if parts.fragment:
        raise InvalidInput("url", "must not contain a fragment (#...)")
    if not _allow_private():
        refused = url_address_refused(parts.hostname)
        if refused:
            raise InvalidInput("url", f"is refused: {refused} (MEMPORTAL_WEBHOOK_ALLOW_PRIVATE is off)")
    return url


def webhook_event_types_clean(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidInput("event_types", f"must be a non-empty list of: {', '.join(EVENT_TYPES)}")
    unknown = sorted(set(value) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput("event_types", f"unknown {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    return sorted(set(value), key=EVENT_TYPES.index)


def webhook_name_clean(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
        raise InvalidInput("name", "must be a non-empty string of at most 100 characters")
    if any(ord(c) < 32 for c in value):
        raise InvalidInput("name", "must not contain control characters")
    return value.strip()


def webhook_create(*, key: AppKey, name: Any, url: Any, event_types: Any) -> tuple[Webhook, str]:
    """A new webhook of the key's tenant and its signing secret (shown to the caller once)."""
    clean = {"name": webhook_name_clean(name), "url": webhook_url_clean(url),
             "event_types": webhook_event_types_clean(event_types)}
    if Webhook.objects.filter(tenant_id=key.tenant_id, deleted_at__isnull=True).count() >= MAX_WEBHOOKS_PER_TENANT:
        raise InvalidInput("url", f"a tenant may have at most {MAX_WEBHOOKS_PER_TENANT} webhooks")
    secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(tenant_id=key.tenant_id, secret=secret, created_by_key=key, **clean)
    return webhook, secret


def webhook_update(*, webhook: Webhook, name: Any = None, url: Any = None, event_types: Any = None) -> Webhook:
    """Change what was given (all checked first: a bad value changes nothing)."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = webhook_name_clean(name)
    if url is not None:
        changes["url"] = webhook_url_clean(url)
    if event_types is not None:
        changes["event_types"] = webhook_event_types_clean(event_types)
    for attr, value in changes.items():
        setattr(webhook, attr, value)
    webhook.save(update_fields=[*changes, "updated_at"])
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    """Nothing more is sent to it, including deliveries already queued (checked at delivery time);
    those are cancelled here too so the staff page says so at once."""
    with transaction.atomic():
        webhook.deleted_at = timezone.now()
        webhook.save(update_fields=["deleted_at", "updated_at"])
        for delivery in WebhookDelivery.objects.select_for_update().filter(
                webhook=webhook, state=WebhookDelivery.State.PENDING):
            _finish(delivery, WebhookDelivery.State.CANCELLED)


def webhook_as_dict(webhook: Webhook, *, secret: str | None = None) -> dict[str, Any]:
    """The platform's webhook shape (``webhook_id``, ``name``, ``url``, ``event_types``, ``project``,
    ``is_active``, times). The secret only when just created."""
    data = {
        "webhook_id": webhook.pk, "name": webhook.name, "url": webhook.url, "event_types": webhook.event_types,
        "project": webhook.tenant.slug, "is_active": webhook.deleted_at is None,
        "created_at": webhook.created_at.isoformat(), "updated_at": webhook.updated_at.isoformat(),
    }
    if secret is not None:
        data["secret"] = secret
    return data


# --- signing ----------------------------------------------------------------------------------------
def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(*, secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (docs/api.md shows the same in a few lines): the timestamp is recent
    and one ``v1`` matches, compared in constant time."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [v for k, v in fields if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, v) for k, v in fields if k == "v1")


# --- emitting ---------------------------------------------------------------------------------------
@dataclass
class WebhookEvent:
    event_type: str
    data: dict[str, Any]
    subject_id: str | None = None
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


def _hooks(*, app_id: str | None = None, tenant: Tenant | None = None) -> list[Webhook]:
    hooks = Webhook.objects.filter(deleted_at__isnull=True).select_related("tenant")
    hooks = hooks.filter(tenant=tenant) if tenant is not None else hooks.filter(tenant__slug=app_id)
    return list(hooks)


def _deliveries_create(hooks: list[Webhook], events: list[WebhookEvent]) -> list[WebhookDelivery]:
    """One row per (event, matching webhook), and their jobs deferred in one batch when the writing
    transaction commits (an import of thousands of messages is one INSERT of jobs, not thousands)."""
    from .tasks import webhook_deliver_task

    made = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hook, tenant_id=hook.tenant_id, event_id=event.event_id,
                        event_type=event.event_type, subject_id=event.subject_id, payload=event.data)
        for event in events for hook in hooks if event.event_type in hook.event_types
    )
    jobs = [{"delivery_id": str(delivery.pk)} for delivery in made]
    if jobs:
        transaction.on_commit(lambda: webhook_deliver_task.batch_defer(*jobs))
    return made


def memory_events_emit(*, app_id: str | None, rows: Iterable[tuple[str, Any, str | None, str | None, str | None]]
                       ) -> None:
    """History rows just written: (event ADD/UPDATE/DELETE, memory id, subject id, agent id, run id).

    Only for people the app has named (an active membership with its ``user_id``): a person who
    only uses the browser is nobody the app knows, and is not revealed to it.
    """
    rows = [r for r in rows if r[0] in HISTORY_EVENTS and r[2]]
    if not app_id or not rows:
        return
    hooks = _hooks(app_id=app_id)
    if not hooks:
        return
    names = dict(Membership.objects.filter(
        tenant_id=hooks[0].tenant_id, subject_id__in={r[2] for r in rows}, external_id__isnull=False,
        ended_at__isnull=True).values_list("subject_id", "external_id"))
    _deliveries_create(hooks, [
        WebhookEvent(event_type=HISTORY_EVENTS[event], subject_id=subject, data={
            "memory_id": str(memory_id), "event": event, "user_id": names[subject], "agent_id": agent,
            "run_id": run})
        for event, memory_id, subject, agent, run in rows if subject in names
    ])


def erasure_event_emit(*, receipt: ErasureReceipt, member: Membership | None, user_id: str | None,
                       ends_membership: bool) -> None:
    """An erasure receipt was just created. ``user_id``: the app's id for the person, read before
    the erasure ran (an erasure that ends the membership replaces it by a hash).

    A person's erasure names them to the app (it must erase its own copies); when it ends their
    membership the row keeps no ``subject_id`` and the ``user_id`` only until the delivery ends.
    """
    event_type = RECEIPT_EVENTS.get(receipt.kind)
    if event_type is None or (member is not None and not user_id):
        return
    hooks = _hooks(tenant=receipt.tenant)
    if not hooks:
        return
    data: dict[str, Any] = {
        "receipt_id": str(receipt.pk), "kind": receipt.kind, "user_id": user_id,
        "agent_id": receipt.agent_id or None, "run_id": receipt.run_id or None,
        "memory_id": str(receipt.memory_id) if receipt.memory_id else None,
        "memories_erased": receipt.memories_erased, "membership_ended": ends_membership,
        "requested_via": receipt.requested_via,
    }
    subject = member.subject_id if member is not None and not ends_membership else None
    _deliveries_create(hooks, [WebhookEvent(event_type=event_type, data=data, subject_id=subject,
                                            event_id=receipt.pk)])


# --- delivering -------------------------------------------------------------------------------------
def _finish(delivery: WebhookDelivery, state: str) -> None:
    """A delivery that ends keeps no app id for the person (its record stays for staff)."""
    delivery.state = state
    delivery.finished_at = timezone.now()
    delivery.payload = {k: v for k, v in delivery.payload.items() if k != "user_id"}
    delivery.save(update_fields=["state", "finished_at", "payload"])


def delivery_body(delivery: WebhookDelivery) -> bytes:
    tenant = delivery.webhook.tenant
    return json.dumps({
        "id": str(delivery.pk), "event_id": str(delivery.event_id), "event_type": delivery.event_type,
        "created_at": delivery.created_at.isoformat(), "webhook_id": delivery.webhook_id,
        "app_id": tenant.slug, "project_id": tenant.slug, "data": delivery.payload,
    }, separators=(",", ":"), sort_keys=True).encode()


def _send(*, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST once: (status or None, error text). Redirects are not followed (they could lead
    anywhere, past the address check)."""
    if not _allow_private():
        host = urlsplit(url).hostname or ""
        refused = url_address_refused(host)
        if refused:
            return None, f"Refused: {refused}."
    try:
        with httpx.Client(timeout=settings.MEMPORTAL["WEBHOOK_TIMEOUT_SECONDS"], follow_redirects=False,
                          trust_env=False) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]
    status = response.status_code
    if 200 <= status < 300:
        return status, ""
    return status, f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")


def webhook_deliver(*, delivery_id: Any, worker: str = "") -> str:
    """Try a pending delivery once. Returns its state; raises DeliveryFailed when it should be
    tried again. Safe to run again after a kill: an attempt left unfinished is marked so."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(of=("self",)).select_related("webhook__tenant")
                    .filter(pk=delivery_id).first())
        if delivery is None:
            return "missing"
        if delivery.state != WebhookDelivery.State.PENDING:
            return delivery.state
        WebhookAttempt.objects.filter(delivery=delivery, finished_at__isnull=True).update(
            finished_at=now, error="Interrupted: the worker stopped before the answer was recorded.")
        if delivery.webhook.deleted_at is not None:
            _finish(delivery, WebhookDelivery.State.CANCELLED)
            return delivery.state
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
        attempt = WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts, worker=worker[:100],
                                                started_at=now)
        webhook = delivery.webhook
        body = delivery_body(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json", "User-Agent": "memportal-webhooks/1",
        EVENT_HEADER: delivery.event_type, DELIVERY_HEADER: str(delivery.pk),
        "X-Memportal-Attempt": str(attempt.number),
        SIGNATURE_HEADER: signature_header(secret=webhook.secret, timestamp=timestamp, body=body),
    }
    started = time.monotonic()
    status, error = _send(url=webhook.url, body=body, headers=headers)
    duration = int((time.monotonic() - started) * 1000)
    ok = not error
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        WebhookAttempt.objects.filter(pk=attempt.pk).update(
            finished_at=timezone.now(), duration_ms=duration, status_code=status, error=error)
        if delivery.state == WebhookDelivery.State.PENDING:
            if ok:
                _finish(delivery, WebhookDelivery.State.DELIVERED)
            elif delivery.attempts >= settings.MEMPORTAL["WEBHOOK_MAX_ATTEMPTS"]:
                _finish(delivery, WebhookDelivery.State.FAILED)
    if delivery.state == WebhookDelivery.State.PENDING:
        raise DeliveryFailed(error)
    return delivery.state
