from __future__ import annotations

from django.contrib import admin

from memportal.memory.admin import ReadOnlyAdmin

from .models import OffboardingJob


@admin.register(OffboardingJob)
class OffboardingJobAdmin(ReadOnlyAdmin):
    """Jobs are started from /offboarding/ (re-authentication + typed app_id), not from here."""

    list_display = ["created_at", "tenant", "state", "memories_before", "memories_erased", "memories_after",
                    "requested_by", "via", "finished_at"]
    list_filter = ["state", "tenant"]
