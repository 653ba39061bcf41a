from __future__ import annotations

from django.contrib import admin

from memportal.memory.admin import ReadOnlyAdmin

from .models import AccessRecord, ExportJob


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "tenant", "actor_label", "action", "memories_shown"]
    list_filter = ["tenant", "action"]
    search_fields = ["actor_label", "subject_ids"]


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "requested_by", "fmt", "state", "written", "total", "expires_at"]
    list_filter = ["tenant", "state"]
