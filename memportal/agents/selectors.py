"""Reads for app keys and portal links."""

from __future__ import annotations

import hmac

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from memportal.memory.models import Membership, Tenant

from .models import AppKey, token_hash
from .services import KEY_PATTERN


def appkey_authenticate(*, raw: str) -> AppKey | None:
    """The active key for a raw secret, or None (unknown, malformed, revoked or expired)."""
    match = KEY_PATTERN.fullmatch(raw or "")
    if match is None:
        return None
    key = AppKey.objects.select_related("tenant").filter(prefix=match.group(1)).first()
    if key is None or not hmac.compare_digest(key.secret_hash, token_hash(raw)):
        return None
    if not key.is_active or key.tenant.offboarded_at is not None:
        return None
    return key


def appkeys_for_tenant(*, tenant: Tenant) -> QuerySet[AppKey]:
    return AppKey.objects.filter(tenant=tenant).select_related("created_by")


def staff_tenants_for_user(*, user: AbstractBaseUser) -> list[Tenant]:
    """Tenants whose keys this user may manage: their staff memberships; superusers, all."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(Tenant.objects.filter(offboarded_at__isnull=True))
    return list(
        Tenant.objects.filter(
            memberships__user=user, memberships__role=Membership.Role.STAFF, memberships__ended_at__isnull=True,
            offboarded_at__isnull=True,
        ).distinct()
    )
