"""The staff access log: every audit view, search and export, append-only."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from memportal.memory.models import Tenant


class AccessRecord(models.Model):
    class Action(models.TextChoices):
        VIEW = "view", "Viewed the audit list"
        SEARCH = "search", "Searched"
        EXPORT = "export", "Exported"
        SETTING = "setting", "Changed a setting"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="access_records")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=254, help_text="The staff member's email when the record was made."
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    filters = models.JSONField(default=dict, help_text="The exact filter in use (never memory text).")
    subject_ids = ArrayField(models.CharField(max_length=40), default=list,
                             help_text="Whose memories were shown (mem0 subject ids).")
    memories_shown = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [GinIndex(fields=["subject_ids"], name="access_subject_ids_gin")]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.tenant_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Access records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Access records are append-only.")


class ExportJob(models.Model):
    """A background export of a tenant (or a filter) to a file under the exports folder.

    The file holds memory text, so it expires (``expires_at``) and is erased with the tenant at
    offboarding; this row holds only the filter, counts and the file's name.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        ERASED = "erased", "Removed by an erasure"

    class Format(models.TextChoices):
        JSONL = "jsonl", "JSON Lines"
        CSV = "csv", "CSV"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="export_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    fmt = models.CharField(max_length=5, choices=Format.choices)
    filters = models.JSONField(default=dict, help_text="The filter being exported (never memory text).")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    total = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True, default="")
    subject_ids = ArrayField(models.CharField(max_length=40), default=list, blank=True,
                             help_text="Whose memories the finished file holds (each download is logged for them).")
    error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(100, int(100 * self.written / self.total)) if self.total else 0

    @property
    def active(self) -> bool:
        return self.state in {self.State.QUEUED, self.State.RUNNING}


class TenantAuditReport(models.Model):
    """A stored nightly audit of one tenant (``memportal.staff.audit``): counts per person (by
    subject id only, never a label), agent and session, memories past retention, paused people,
    erasures in the last day. No memory text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="audit_reports")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    scheduled_for = models.DateTimeField(null=True, blank=True, help_text="The nightly schedule it was run for.")
    counts = models.JSONField(default=dict)
    run_seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "scheduled_for"], name="one_audit_report_per_schedule"),
        ]

    def __str__(self) -> str:
        return f"audit {self.tenant_id} at {self.created_at:%Y-%m-%d %H:%M}"
