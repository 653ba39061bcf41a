from django.contrib import admin

from .models import AppKey, MemoryExportRequest, PortalToken


@admin.register(AppKey)
class AppKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "prefix", "can_read", "can_write", "can_admin", "created_at", "last_used_at",
                    "expires_at", "revoked_at"]
    list_filter = ["tenant", "can_admin"]
    # The secret hash is never shown or edited; keys are created on the staff page (shown once).
    readonly_fields = ["tenant", "prefix", "created_by", "created_at", "last_used_at"]
    exclude = ["secret_hash"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PortalToken)
class PortalTokenAdmin(admin.ModelAdmin):
    list_display = ["membership", "created_at", "expires_at", "used_at"]
    exclude = ["token_hash"]
    readonly_fields = ["membership", "app_key", "expires_at", "used_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(MemoryExportRequest)
class MemoryExportRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "tenant", "created_at"]
    readonly_fields = ["tenant", "app_key", "filters"]

    def has_add_permission(self, request) -> bool:
        return False
