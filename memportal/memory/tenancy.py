"""Tenants and memberships: how an acting user (or an app key's tenant) becomes a mem0 scope.

These are the only functions that hand out a ``Membership``; the selectors and services take
one and derive ``user_id``/``app_id`` from it. No request value ever becomes a subject id.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from .errors import InvalidInput, MembershipEnded
from .models import Membership, Tenant
from .validation import clean_external_id


def tenant_default() -> Tenant:
    slug = settings.MEMPORTAL["DEFAULT_TENANT"]
    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug.replace("_", " ").title()})
    return tenant


def membership_join_default(*, user: AbstractBaseUser) -> Membership:
    return membership_ensure(user=user, tenant=tenant_default())


def membership_ensure(*, user: AbstractBaseUser, tenant: Tenant, role: str = Membership.Role.MEMBER) -> Membership:
    member = Membership.objects.filter(user=user, tenant=tenant, ended_at__isnull=True).first()
    if member is None:
        member = Membership.objects.create(user=user, tenant=tenant, role=role)
    return member


def memberships_for_user(*, user: AbstractBaseUser) -> list[Membership]:
    """The signed-in person's active memberships, default tenant first."""
    if not user.is_authenticated:
        return []
    members = list(
        Membership.objects.filter(user=user, ended_at__isnull=True).select_related("tenant").order_by("created_at")
    )
    return members


def access_membership_for_user(*, user: AbstractBaseUser, tenant_slug: str | None = None) -> Membership:
    """The membership a browser request acts as: one of the user's own, never anyone else's.

    ``tenant_slug`` (from the session's tenant switcher) only chooses *among the user's own*
    memberships; an unknown or foreign slug falls back to their first membership. A user with
    none is joined to the default tenant.
    """
    members = memberships_for_user(user=user)
    if not members:
        return membership_join_default(user=user)
    for member in members:
        if member.tenant.slug == tenant_slug:
            return member
    return members[0]


def access_membership_for_external(*, tenant: Tenant, external_id: object, create: bool) -> Membership | None:
    """The membership an app server means by its own ``user_id``, inside the key's tenant only.

    Returns None (the caller answers "not found") when it does not exist and ``create`` is false.
    """
    external = clean_external_id(external_id)
    if tenant.offboarded_at is not None:
        raise MembershipEnded()
    member = Membership.objects.filter(tenant=tenant, external_id=external, ended_at__isnull=True).first()
    if member is not None or not create:
        return member
    try:
        with transaction.atomic():
            return Membership.objects.create(tenant=tenant, external_id=external)
    except IntegrityError:  # created by a concurrent request
        return Membership.objects.get(tenant=tenant, external_id=external, ended_at__isnull=True)


def tenant_by_slug(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise InvalidInput("app_id", "no such tenant")
    return tenant
