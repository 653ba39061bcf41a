"""Django admin for tenancy. Memories themselves are not here: reading them must go through the
staff audit, which records every look. Receipts are read-only records."""

from __future__ import annotations

from django.contrib import admin

from .models import ErasureReceipt, Membership, Tenant


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at", "offboarded_at"]
    search_fields = ["slug", "name"]
    readonly_fields = ["created_at", "offboarded_at"]

    def get_readonly_fields(self, request, obj=None):
        # The slug is every memory's app_id: renaming it would orphan them all.
        return [*self.readonly_fields, "slug"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # tenants are offboarded (erased + receipt), never deleted


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["__str__", "tenant", "role", "memory_paused", "created_at", "ended_at"]
    list_filter = ["tenant", "role", "memory_paused"]
    search_fields = ["user__email", "external_id", "subject_id"]
    readonly_fields = ["subject_id", "created_at", "ended_at"]
    raw_id_fields = ["user"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # ending a membership erases its memories; that is membership_end's job


@admin.register(ErasureReceipt)
class ErasureReceiptAdmin(ReadOnlyAdmin):
    list_display = ["id", "tenant", "kind", "memories_erased", "remaining_after", "requested_via", "finished_at"]
    list_filter = ["tenant", "kind"]
