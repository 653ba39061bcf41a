"""Test data: people in tenants, created through the same tenancy helpers the site uses."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from memportal.memory.models import Membership, Tenant
from memportal.memory.tenancy import membership_ensure

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Person:
    user: object
    member: Membership

    @property
    def email(self) -> str:
        return self.user.email


def tenant(slug: str) -> Tenant:
    return Tenant.objects.get_or_create(slug=slug, defaults={"name": slug.replace("_", " ").title()})[0]


def person(name: str, tenant_slug: str = "concierge_app", role: str = Membership.Role.MEMBER,
           superuser: bool = False) -> Person:
    User = get_user_model()
    user = User.objects.filter(username=name).first()
    if user is None:
        make = User.objects.create_superuser if superuser else User.objects.create_user
        user = make(username=name, email=f"{name}@example.com", password=PASSWORD)
        from allauth.account.models import EmailAddress

        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return Person(user, membership_ensure(user=user, tenant=tenant(tenant_slug), role=role))
