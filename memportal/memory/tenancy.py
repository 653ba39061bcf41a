"""Tenants and memberships: how an acting user (or an app key's tenant) becomes a mem0 scope.

They create memberships; who may reach which one is decided in ``memportal.access``. The
selectors and services take a membership and derive ``user_id``/``app_id`` from it. No request
value ever becomes a subject id.
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
    """The user's active membership in the tenant, created if missing (sign-up, explicit join, tests).

    Safe under concurrency: two simultaneous first requests race on the partial unique index,
    and the loser reads the winner's row instead of failing.
    """
    if tenant.offboarded_at is not None:
        raise MembershipEnded()
    member = Membership.objects.filter(user=user, tenant=tenant, ended_at__isnull=True).first()
    if member is not None:
        return member
    try:
        with transaction.atomic():
            return Membership.objects.create(user=user, tenant=tenant, role=role)
    except IntegrityError:  # created by a concurrent request
        return Membership.objects.get(user=user, tenant=tenant, ended_at__isnull=True)


def membership_for_external(*, tenant: Tenant, external_id: object, create: bool) -> Membership | None:
    """The tenant's active membership an app means by its own id (created if asked). Access rules
    (offboarded tenant, erased person) are memportal.access.access_member_for_key's, which calls this."""
    external = clean_external_id(external_id)
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
