"""Reads for app keys and portal links."""

from __future__ import annotations

import hmac

from django.db.models import QuerySet

from memportal.memory.models import Membership, Tenant

from .models import AppKey, KeyRead, token_hash
from .services import KEY_PATTERN


def appkey_lookup(*, raw: str) -> AppKey | None:
    """The key whose secret this is (constant-time compare), or None; whether it may be used is
    memportal.access.access_key_for_secret's decision."""
    match = KEY_PATTERN.fullmatch(raw or "")
    if match is None:
        return None
    key = AppKey.objects.select_related("tenant", "created_by").filter(prefix=match.group(1)).first()
    if key is None or not hmac.compare_digest(key.secret_hash, token_hash(raw)):
        return None
    return key


def appkeys_for_tenant(*, tenant: Tenant) -> QuerySet[AppKey]:
    return AppKey.objects.filter(tenant=tenant).select_related("created_by")


def key_reads_for_member(*, member: Membership) -> QuerySet[KeyRead]:
    """App-key reads of this person's memories, newest first (for 'Who looked')."""
    return KeyRead.objects.filter(tenant=member.tenant, subject_id=member.subject_id).select_related(
        "app_key__created_by"
    )
