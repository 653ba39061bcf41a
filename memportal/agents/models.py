"""App keys (how a tenant's app server authenticates), portal links and export requests.

Secrets are never stored: a key or a portal token is kept as the sha256 of a 32-byte random
token. sha256 (not a slow password hash) is right here because the tokens are high-entropy,
and the API checks a key on every request.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from memportal.memory.models import Membership, Tenant


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class AppKey(models.Model):
    """A tenant's app-server credential for the mem0-compatible API. The key decides the tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="app_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part of the key, for lookup.")
    secret_hash = models.CharField(max_length=64)
    can_read = models.BooleanField(default=True)
    can_write = models.BooleanField(default=True)
    can_admin = models.BooleanField(
        "tenant admin", default=False, help_text="Alone allows tenant-wide deletion (offboarding)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant.slug}, {self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def permissions(self) -> list[str]:
        return [p for p, on in (("read", self.can_read), ("write", self.can_write),
                                ("tenant_admin", self.can_admin)) if on]


class PortalToken(models.Model):
    """A one-time, short-lived link that signs one membership's person into "your data"."""

    token_hash = models.CharField(max_length=64, unique=True)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="portal_tokens")
    app_key = models.ForeignKey(AppKey, null=True, on_delete=models.SET_NULL, related_name="portal_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"portal link for membership {self.membership_id} (expires {self.expires_at:%Y-%m-%d %H:%M})"


class KeyRead(models.Model):
    """Reads of one person's memories made with an app key, aggregated per key, person, day and kind.

    A key read is a look like a staff view: the person sees it on "Who looked". One row per
    (key, person, day, action) whose counters grow (an upsert), so the log does not grow per request.
    """

    app_key = models.ForeignKey(AppKey, on_delete=models.CASCADE, related_name="reads")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    subject_id = models.CharField(max_length=40, db_index=True)
    day = models.DateField()
    action = models.CharField(max_length=20, help_text="list, search, get, history or export")
    scope = models.CharField(
        max_length=20, help_text="'person' when the app named this person, 'everyone' for a wildcard read."
    )
    requests = models.PositiveIntegerField(default=0)
    memories = models.PositiveBigIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["app_key", "subject_id", "day", "action", "scope"], name="one_key_read_row_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.app_key_id} {self.action} {self.subject_id} on {self.day}"


class MemoryExportRequest(models.Model):
    """An export the API promised (``create_memory_export``).

    Holds only the parsed filter (ids, never memory text): the export itself is computed when
    it is fetched, so erasing a memory also erases it from every export not yet downloaded.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    app_key = models.ForeignKey(AppKey, null=True, on_delete=models.SET_NULL, related_name="+")
    filters = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"export {self.id} ({self.tenant_id})"


class ApiRateWindow(models.Model):
    """API requests one key made in one rate-limit window (``memportal.agents.ratelimit``).

    Counted by a single upsert per request, so concurrent requests never lose a count and no
    request makes PostgreSQL log an error. The key and window form the primary key (no id
    sequence spent on every upsert); a key's windows older than the previous one are deleted
    when it opens a new window, so the table stays at about two rows per active key.
    """

    pk = models.CompositePrimaryKey("key", "window_start")
    # No separate index: the primary key's (key_id, window_start) index serves key lookups.
    key = models.ForeignKey(AppKey, on_delete=models.CASCADE, related_name="+", db_index=False)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key_id} at {self.window_start:%Y-%m-%d %H:%M}: {self.hits}"


class TenantDeleteJob(models.Model):
    """A tenant-wide API delete (``DELETE /v1/memories/?agent_id=…`` or ``?run_id=…`` without a
    ``user_id``), run by the queue (``tasks.py``) instead of inside the request.

    Every person the app has named with memories in the scope is erased in turn through
    ``memory_delete_all``, each with their own verified erasure receipt (``receipts``). Each
    person's erasure commits with the job's counters, so a killed job resumes with the people
    still holding memories in the scope and its counts add up. The row holds the scope (agent
    and session ids, never a person's id or memory text), progress and the verification.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="delete_jobs")
    app_key = models.ForeignKey(AppKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agent_id = models.CharField(max_length=128, blank=True, default="")
    run_id = models.CharField(max_length=128, blank=True, default="")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    people_total = models.PositiveIntegerField(null=True, blank=True)
    people_done = models.PositiveIntegerField(default=0)
    memories_erased = models.PositiveIntegerField(default=0)
    receipts = models.ManyToManyField("memory.ErasureReceipt", blank=True, related_name="+")
    verification = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=100, blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"tenant delete {self.pk} ({self.state})"

    @property
    def active(self) -> bool:
        return self.state in {self.State.QUEUED, self.State.RUNNING}

    def as_dict(self) -> dict:
        return {
            "job_id": str(self.pk), "status": self.state, "agent_id": self.agent_id or None,
            "run_id": self.run_id or None, "people_total": self.people_total, "people_done": self.people_done,
            "deleted": self.memories_erased, "receipts": self.receipts.count(),
            "verification": self.verification or None,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


class Webhook(models.Model):
    """A URL the tenant's app registered to hear of memory changes and erasures (``create_webhook``).

    ``secret`` signs every delivery (HMAC-SHA256, ``memportal.agents.webhooks``). It has to be kept
    in clear to sign; it is shown once, in the answer to the request that created the webhook.
    Deleting a webhook only marks it (``deleted_at``): its delivery record stays for the tenant's
    staff, and nothing more is sent to it, including deliveries already queued.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=100)
    url = models.CharField(max_length=2000)
    event_types = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    created_by_key = models.ForeignKey(AppKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} {self.name} ({self.tenant_id})"


class WebhookDelivery(models.Model):
    """One event for one webhook: sent from the queue until it is answered with a 2xx or runs out of
    attempts. Its id is sent as ``X-Memportal-Delivery`` (and ``id`` in the body) so receivers can
    drop a repeat (delivery is at least once).

    ``payload`` holds ids only, never memory text. The app's own id for the person (``user_id``)
    is removed from it when the delivery ends; ``subject_id`` (ours) lets erasure find the rows of
    a person who leaves (erasure.WebhookDeliveries).
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (no attempts left)"
        CANCELLED = "cancelled", "Cancelled (webhook deleted or person erased)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=30)
    # NULL, not "": erasure and its recount select the rows about a person by this column.
    subject_id = models.CharField(max_length=40, null=True, blank=True, db_index=True)  # noqa: DJ001
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="webhookdelivery_tenant")]

    def __str__(self) -> str:
        return f"{self.event_type} to webhook {self.webhook_id} ({self.state})"


class WebhookAttempt(models.Model):
    """One try at sending a delivery: written before the request (so a worker killed meanwhile leaves
    a visible, unfinished attempt) and completed with the answer."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    worker = models.CharField(max_length=100, blank=True, default="")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["number", "id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def note(self) -> str:
        """The error, unless it only repeats the status ("HTTP 500")."""
        return "" if self.error == f"HTTP {self.status_code}" else self.error
