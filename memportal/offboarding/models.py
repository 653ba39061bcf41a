"""Offboarding jobs: erase everything under one tenant's app_id, resumably, with a receipt.

The row is the job's progress and receipt; the procrastinate queue (``tasks.py``) runs it, one
per tenant at a time, and hands a dead worker's job to another (which resumes it). No field
here ever holds memory text.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from memportal.memory.models import ErasureReceipt, Tenant


class OffboardingJob(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Memberships(models.TextChoices):
        END = "end", "End every membership"
        KEEP = "keep", "Keep memberships (accounts stay, memories go)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="offboarding_jobs")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    memberships_action = models.CharField(max_length=5, choices=Memberships.choices, default=Memberships.END)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=20, default="admin")
    batch_size = models.PositiveIntegerField(default=2000)

    # progress
    memories_before = models.PositiveIntegerField(null=True, blank=True)
    people_before = models.PositiveIntegerField(null=True, blank=True)
    memories_erased = models.PositiveIntegerField(default=0)
    history_rows_erased = models.PositiveIntegerField(default=0)
    message_rows_erased = models.PositiveIntegerField(default=0)
    export_files_erased = models.PositiveIntegerField(default=0)
    memberships_ended = models.PositiveIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0, help_text="How many times a worker claimed the job.")
    worker = models.CharField(max_length=100, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    # receipt
    memories_after = models.PositiveIntegerField(null=True, blank=True)
    verification = models.JSONField(
        default=dict, blank=True, help_text="The verification queries and the counts they returned."
    )
    erasure_receipt = models.OneToOneField(
        ErasureReceipt, null=True, blank=True, on_delete=models.SET_NULL, related_name="offboarding_job"
    )
    error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one active job per tenant: offboarding_start is idempotent on top of this.
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(state__in=["queued", "running"]),
                name="one_active_offboarding_per_tenant",
            ),
        ]

    def __str__(self) -> str:
        return f"offboarding {self.tenant.slug} ({self.state})"

    @property
    def active(self) -> bool:
        return self.state in {self.State.QUEUED, self.State.RUNNING}

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.memories_before:
            return 0
        # Erasing is ~all of the work; the last percent waits for verification.
        return min(99, int(100 * self.memories_erased / self.memories_before))

    @property
    def verified(self) -> bool:
        return self.state == self.State.DONE and self.memories_after == 0

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
