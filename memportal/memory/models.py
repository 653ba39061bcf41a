"""Tenancy and the memory service's own records.

The vectors themselves live in the ``memportal_memories`` table that mem0's pgvector store
reads and writes; migration 0002 creates it with the indexes per-person queries need.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

APP_ID_VALIDATOR = RegexValidator(
    r"^[a-z0-9][a-z0-9_\-]{1,62}$", "Lowercase letters, digits, '_' and '-', 2 to 63 characters."
)


def new_subject_id() -> str:
    """An opaque mem0 user_id: 128 random bits, never derived from a name, email or pk."""
    return "s_" + secrets.token_hex(16)


#: Auto-delete choices in months (Google My Activity's 3, 18 and 36); 0 means "never".
RETENTION_CHOICES = [(0, "Never"), (3, "After 3 months"), (18, "After 18 months"), (36, "After 36 months")]


class Tenant(models.Model):
    slug = models.CharField(
        "app_id", max_length=63, unique=True, validators=[APP_ID_VALIDATOR],
        help_text="The mem0 app_id every memory of this tenant carries.",
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    offboarded_at = models.DateTimeField(null=True, blank=True)
    retention_months = models.PositiveSmallIntegerField(
        choices=RETENTION_CHOICES, default=0,
        help_text="Default auto-delete for people who have not chosen their own (set by staff; 0 = never).",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    """A person inside one tenant. ``subject_id`` is their mem0 ``user_id``."""

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        STAFF = "staff", "Staff"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="memberships"
    )
    external_id = models.CharField(
        max_length=128, null=True, blank=True,
        help_text="The tenant app's own id for this person (the user_id its app server sends).",
    )
    external_id_hash = models.CharField(
        max_length=64, blank=True, default="", db_index=True,
        help_text="After erasure: a keyed hash of the erased external_id (never the id itself), so the "
                  "app's next use of it is recognised as the same, erased person.",
    )
    subject_id = models.CharField(max_length=40, unique=True, default=new_subject_id, editable=False)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    # "Stop this app from remembering me" (GDPR Art. 21): the app's writes for this person answer 423.
    memory_paused = models.BooleanField(default=False)
    retention_months = models.PositiveSmallIntegerField(
        choices=RETENTION_CHOICES, null=True, blank=True,
        help_text="The person's own auto-delete choice for this app; NULL = the tenant's default.",
    )
    # "Stop this app from reading my memories" (GDPR Art. 18 restriction): every read the app's keys
    # make that would return this person's memories answers 423 or leaves them out (access.py).
    reads_stopped = models.BooleanField(default=False, db_default=False)  # db_default: raw bulk inserts too
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(
        max_length=20, blank=True, default="",
        help_text="Why the membership ended: 'account' (the person deleted it) or 'offboarded' (tenant erased).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"], condition=Q(user__isnull=False, ended_at__isnull=True),
                name="one_active_membership_per_user_and_tenant",
            ),
            models.UniqueConstraint(
                fields=["tenant", "external_id"], condition=Q(external_id__isnull=False, ended_at__isnull=True),
                name="one_active_membership_per_external_id",
            ),
        ]

    def __str__(self) -> str:
        who = self.user.email if self.user_id else (self.external_id or self.subject_id)
        return f"{who} @ {self.tenant.slug} ({self.role})"

    @property
    def is_staff_member(self) -> bool:
        return self.role == self.Role.STAFF and self.ended_at is None

    @property
    def retention_effective(self) -> int:
        """Months after which memories are auto-deleted (0 = never): the person's own choice,
        else the tenant's default."""
        return self.retention_months if self.retention_months is not None else self.tenant.retention_months


class MemoryEvent(models.Model):
    """mem0's memory history (ADD / UPDATE / DELETE), kept in PostgreSQL instead of SQLite.

    Erasure deletes these rows with the memory: they hold its old and new text.
    """

    memory_id = models.UUIDField(db_index=True)
    # The memory's scope, written with the row so history can be erased and counted by scope
    # even after the memory itself is gone (erasure.registry counts it independently).
    app_id = models.CharField(max_length=63, null=True)
    subject_id = models.CharField(max_length=40, null=True)
    agent_id = models.CharField(max_length=128, null=True)
    run_id = models.CharField(max_length=128, null=True)
    event = models.CharField(max_length=10)
    old_memory = models.TextField(null=True)
    new_memory = models.TextField(null=True)
    actor_id = models.CharField(max_length=200, null=True)
    role = models.CharField(max_length=20, null=True)
    is_deleted = models.BooleanField(default=False)
    created_at = models.CharField(max_length=40, null=True)
    updated_at = models.CharField(max_length=40, null=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(
        max_length=20, blank=True, default="", db_default="",  # db_default: bulk COPY omits the column
        help_text="What wrote the event when not an app or the person's own edit: 'import'.",
    )

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["app_id", "subject_id"], name="memoryevent_scope")]

    def __str__(self) -> str:
        return f"{self.event} {self.memory_id}"


class MemoryMessage(models.Model):
    """mem0's raw-message table (last messages per scope, used when an LLM extracts facts)."""

    session_scope = models.CharField(max_length=400, db_index=True)
    subject_id = models.CharField(max_length=128, null=True, db_index=True)
    role = models.CharField(max_length=20, null=True)
    content = models.TextField(null=True)
    name = models.CharField(max_length=200, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role} message in {self.session_scope}"


class ErasureReceipt(models.Model):
    """What an erasure removed, when, and a verification count. Holds no memory text."""

    class Kind(models.TextChoices):
        MEMORY = "memory", "One memory"
        RUN = "run", "One session"
        AGENT = "agent", "One agent"
        ALL = "all", "Everything"
        ACCOUNT = "account", "Account deletion"
        TENANT = "tenant", "Tenant offboarding"
        RETENTION = "retention", "Auto-delete (retention)"
        RANGE = "range", "Delete by date range"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="erasure_receipts")
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="erasure_receipts"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    agent_id = models.CharField(max_length=128, blank=True, default="")
    run_id = models.CharField(max_length=128, blank=True, default="")
    memory_id = models.UUIDField(null=True, blank=True, help_text="The erased memory (kind 'memory').")
    range_start = models.DateTimeField(
        null=True, blank=True, help_text="Kinds 'range'/'retention': memories written from this time (NULL: any)."
    )
    range_end = models.DateTimeField(
        null=True, blank=True, help_text="Kinds 'range'/'retention': memories written before this time."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_via = models.CharField(max_length=20, default="you")
    memories_erased = models.PositiveIntegerField(default=0)
    history_rows_erased = models.PositiveIntegerField(default=0)
    message_rows_erased = models.PositiveIntegerField(default=0)
    remaining_after = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    verified_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When every store was counted again, after commit, on a fresh database connection.",
    )

    class Meta:
        ordering = ["-finished_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.memories_erased} erased at {self.finished_at:%Y-%m-%d %H:%M}"

    @property
    def verified(self) -> bool:
        """True only after the independent recount found nothing left in any store."""
        return self.verified_at is not None and self.remaining_after == 0


class ErasureReceiptLine(models.Model):
    """One store of the erasure registry on a receipt: what was erased there, what a recount found."""

    receipt = models.ForeignKey(ErasureReceipt, on_delete=models.CASCADE, related_name="lines")
    store = models.CharField(max_length=40)
    label = models.CharField(max_length=120)
    erased = models.PositiveIntegerField(default=0)
    remaining = models.PositiveIntegerField(null=True, blank=True, help_text="None until verified.")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["receipt", "store"], name="one_line_per_store")]

    def __str__(self) -> str:
        return f"{self.store}: {self.erased} erased, {self.remaining} remaining"


class MemoryFeedback(models.Model):
    """An app's feedback on one memory (the platform's ``feedback()``), shown to the person beside it.

    Carries the memory's scope like history rows do, so the erasure registry erases and counts it
    by scope (the reason is free text an app wrote about the person).
    """

    class Rating(models.TextChoices):
        POSITIVE = "POSITIVE", "Positive"
        NEGATIVE = "NEGATIVE", "Negative"
        VERY_NEGATIVE = "VERY_NEGATIVE", "Very negative"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    memory_id = models.UUIDField(db_index=True)
    subject_id = models.CharField(max_length=40)
    agent_id = models.CharField(max_length=128, null=True, blank=True)
    run_id = models.CharField(max_length=128, null=True, blank=True)
    rating = models.CharField(max_length=14, choices=Rating.choices, null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    key_prefix = models.CharField(max_length=16, help_text="Which app key gave it (mpk_<prefix>_…).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "subject_id"], name="feedback_scope")]

    def __str__(self) -> str:
        return f"{self.rating or 'cleared'} on {self.memory_id}"


class MemoryRead(models.Model):
    """The per-memory read ledger: how often an app key (or a staff page) returned one memory, per day.

    One row per (memory, reader, day, via) whose ``count`` grows with one upsert statement per
    request (``memory.services.memory_reads_record``). Carries the memory's scope like feedback rows,
    so the erasure registry (``erasure.MemoryReads``) erases and counts it by scope.
    """

    class Via(models.TextChoices):
        KEY = "key", "An app key"
        STAFF = "staff", "Staff"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    memory_id = models.UUIDField()
    subject_id = models.CharField(max_length=40)
    agent_id = models.CharField(max_length=128, null=True, blank=True)
    run_id = models.CharField(max_length=128, null=True, blank=True)
    day = models.DateField()
    via = models.CharField(max_length=8, choices=Via.choices)
    reader = models.CharField(
        max_length=254, help_text="mpk_<prefix>_ of the key, or the staff member's email (as access records keep it).",
    )
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "-last_at"]
        constraints = [
            models.UniqueConstraint(fields=["memory_id", "day", "via", "reader"], name="one_memory_read_row_per_day"),
        ]
        indexes = [models.Index(fields=["tenant", "subject_id"], name="memoryread_scope")]

    def __str__(self) -> str:
        return f"{self.reader} read {self.memory_id} x{self.count} on {self.day}"
