"""The staff access log: every audit view, search and export, append-only."""

from __future__ import annotations

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

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="access_records")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=254, help_text="The staff member's email when the record was made.")
    action = models.CharField(max_length=10, choices=Action.choices)
    filters = models.JSONField(default=dict, help_text="The exact filter in use (never memory text).")
    subject_ids = ArrayField(models.CharField(max_length=40), default=list,
                             help_text="Whose memories were shown (mem0 subject ids).")
    memories_shown = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [GinIndex(fields=["subject_ids"], name="access_subject_ids_gin")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Access records are append-only.")
        super().save(*args, **kwargs)
