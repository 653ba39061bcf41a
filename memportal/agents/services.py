"""Writes for app keys and portal links."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from memportal import access
from memportal.memory.errors import InvalidInput
from memportal.memory.models import Membership, Tenant

from .models import AppKey, KeyRead, PortalToken, token_hash

KEY_PATTERN = re.compile(r"^mpk_([a-z0-9]{8,16})_([A-Za-z0-9_\-]{32,128})$")
PERMISSIONS = frozenset({"read", "write", "tenant_admin"})
PORTAL_TOKEN_TTL = timedelta(minutes=5)


def appkey_create(
    *,
    tenant: Tenant,
    name: str,
    permissions: Iterable[str] = ("read", "write"),
    created_by: AbstractBaseUser | None = None,
    expires_at: datetime | None = None,
    raw_key: str | None = None,
) -> tuple[AppKey, str]:
    """Create a key; returns it with the raw secret, which is never shown again.

    ``raw_key`` lets ``seed_demo`` install a documented demo key; it must look like a real one
    (``mpk_<8-16 lowercase/digits>_<32+ url-safe chars>``).
    """
    perms = set(permissions)
    if not perms or perms - PERMISSIONS:
        raise InvalidInput("permissions", f"choose from {', '.join(sorted(PERMISSIONS))}")
    access.key_grant_check(creator=created_by, permissions=perms)
    if raw_key is None:
        raw_key = f"mpk_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    match = KEY_PATTERN.fullmatch(raw_key)
    if match is None:
        raise InvalidInput("raw_key", "must look like mpk_<8-16 lowercase letters/digits>_<32+ characters>")
    key = AppKey.objects.create(
        tenant=tenant, name=name.strip()[:100] or "app key", prefix=match.group(1), secret_hash=token_hash(raw_key),
        can_read="read" in perms, can_write="write" in perms, can_admin="tenant_admin" in perms,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
        expires_at=expires_at,
    )
    return key, raw_key


def appkey_revoke(*, key: AppKey) -> AppKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        AppKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=key.revoked_at)
    return key


def appkey_touch(*, key: AppKey) -> None:
    """Record use, at most once a minute per key (a write per request would be wasteful)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        AppKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def portal_token_create(*, member: Membership, app_key: AppKey | None = None) -> tuple[PortalToken, str]:
    raw = secrets.token_urlsafe(32)
    token = PortalToken.objects.create(
        token_hash=token_hash(raw), membership=member, app_key=app_key,
        expires_at=timezone.now() + PORTAL_TOKEN_TTL,
    )
    return token, raw


def portal_token_redeem(*, raw: str) -> AbstractBaseUser | None:
    """Spend a portal link (after the person pressed "Continue"): the Django user of exactly its
    membership, or None for a link that can no longer be used (memportal.access.access_portal_link).

    One use only (the row is locked and stamped in one transaction). A membership created by an
    app server has no Django user yet: it gets one with an unusable password and no email, so
    the person can only come back through a link.
    """
    with transaction.atomic():
        try:
            token = access.access_portal_link(raw=raw, lock=True)
        except access.NotFound:
            return None
        member = Membership.objects.select_for_update().get(pk=token.membership_id)
        if member.ended_at is not None:
            return None
        token.used_at = timezone.now()
        token.save(update_fields=["used_at"])
        if member.user_id is None:
            User = get_user_model()
            user = User(username="portal_" + secrets.token_hex(12), email="")
            user.set_unusable_password()
            user.save()
            member.user = user
            member.save(update_fields=["user"])
        return member.user


def key_read_record(*, key: AppKey, action: str, counts: dict[str, int], everyone: bool) -> None:
    """Count a read made with ``key`` as a look at each person whose memories it returned.

    ``counts``: subject id -> memories returned. One upsert per person: the row of (key, person,
    day, action, scope) gains a request and the memories, so the log grows per day, not per request.
    """
    if not counts:
        return
    now = timezone.now()
    table = KeyRead._meta.db_table
    scope = "everyone" if everyone else "person"
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (app_key_id, tenant_id, subject_id, day, action, scope, requests, memories, "
            "first_at, last_at) VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s, %s) "
            "ON CONFLICT (app_key_id, subject_id, day, action, scope) DO UPDATE SET "
            f"requests = {table}.requests + 1, memories = {table}.memories + EXCLUDED.memories, "
            "last_at = EXCLUDED.last_at",
            [
                (key.pk, key.tenant_id, subject, now.date(), action, scope, n, now, now)
                for subject, n in sorted(counts.items())
            ],
        )
