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
