"""Demo data from the stories memportal serves. Safe to run again: it only adds what is missing."""

from __future__ import annotations

import os

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from memportal.memory import selectors, services
from memportal.memory.models import Membership, Tenant
from memportal.memory.tenancy import membership_ensure

DEFAULT_ADDR = "127.0.0.1:8000"  # bin/dev's default for MEMPORTAL_ADDR
DEMO_PASSWORD = "memportal-demo-2026"  # noqa: S105 - printed demo credentials, development only
# Documented demo keys (read + write) so the README's agent.py runs as printed. Development only.
DEMO_API_KEYS = {
    "concierge_app": "mpk_democoncierge_local-demo-key-for-concierge-app-0001",
    "sports_brand_portal": "mpk_demosports_local-demo-key-for-sports-brand-portal-01",
}

TENANTS = {
    "concierge_app": "Concierge App",
    "sports_brand_portal": "Sports Brand Portal",
}

# (username, tenant, role, memories as (text, agent_id, run_id))
PEOPLE = [
    ("alice", "concierge_app", "member", [
        ("I am vegetarian", "chef_recommender", None),
        ("I do not eat mushrooms", "chef_recommender", None),
    ]),
    ("bob", "concierge_app", "member", [
        ("I prefer a window seat on flights", "travel_planner", None),
    ]),
    ("cam", "concierge_app", "member", [
        ("I avoid shellfish", "travel_planner", "tokyo-2025-weekend"),
        ("I prefer boutique hotels", "travel_planner", "tokyo-2025-weekend"),
        ("I would love a Kyoto kaiseki dinner", "chef_recommender", "menu-planning-2025-04"),
    ]),
    ("athlete_jane", "sports_brand_portal", "member", [
        ("I train for marathons and run 60 km a week", "coach", "spring-2025-block"),
        ("I prefer neutral running shoes, size 39", "shop_assistant", None),
    ]),
    ("coach_mike", "sports_brand_portal", "member", [
        ("I coach a youth football team on Saturdays", "coach", None),
    ]),
    ("team_admin", "sports_brand_portal", "member", [
        ("I order team kits every August", "shop_assistant", None),
    ]),
    ("concierge_staff", "concierge_app", "staff", []),
    ("sports_staff", "sports_brand_portal", "staff", []),
]


class Command(BaseCommand):
    help = "Create the demo tenants, people, memories, a superuser and demo API keys (idempotent)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            tenants = {
                slug: Tenant.objects.get_or_create(slug=slug, defaults={"name": name})[0]
                for slug, name in TENANTS.items()
            }
            rows = []
            for username, slug, role, memories in PEOPLE:
                user = self._user(username)
                member = membership_ensure(user=user, tenant=tenants[slug], role=role)
                if member.role != role:
                    Membership.objects.filter(pk=member.pk).update(role=role)
                external = self._link_external_id(member, username)

                if memories and selectors.memory_count(member=member) == 0:
                    for text, agent_id, run_id in memories:
                        services.memory_add(member=member, messages=text, agent_id=agent_id, run_id=run_id)
                rows.append((f"{username}@example.com", slug, role, external or "—",
                             selectors.memory_count(member=member)))
            self._user("admin", superuser=True)
            rows.append(("admin@example.com", "(all tenants)", "superuser", "—", 0))
            keys = self._api_keys(tenants)

        # bin/dev serves on MEMPORTAL_ADDR (default 127.0.0.1:8000): print the address it really uses.
        addr = os.environ.get("MEMPORTAL_ADDR", "").strip() or DEFAULT_ADDR
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Sign in at http://{addr}/accounts/login/"))
        self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}\n")
        self.stdout.write(f"{'email':32} {'tenant (app_id)':22} {'role':10} {'API user_id':14} memories")
        for email, slug, role, external, count in rows:
            self.stdout.write(f"{email:32} {slug:22} {role:10} {external:14} {count}")
        for slug, raw in keys.items():
            self.stdout.write(f"Demo API key for {slug}: {raw}")

    def _link_external_id(self, member: Membership, username: str) -> str | None:
        """The demo login is also the app's person ``username``: an app server's
        ``user_id="alice"`` then writes to alice@example.com's page (as a portal link would join
        them). Left alone when that id already belongs to someone else in the tenant."""
        if member.user.is_staff or member.role != "member":
            return member.external_id
        if member.external_id is None and not member.external_id_hash:
            taken = Membership.objects.filter(tenant=member.tenant, external_id=username,
                                              ended_at__isnull=True).exists()
            if not taken:
                Membership.objects.filter(pk=member.pk).update(external_id=username)
                member.external_id = username
        return member.external_id

    def _user(self, username: str, superuser: bool = False):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            make = User.objects.create_superuser if superuser else User.objects.create_user
            user = make(username=username, email=f"{username}@example.com", password=DEMO_PASSWORD)
        EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": True}
        )
        return user

    def _api_keys(self, tenants: dict[str, Tenant]) -> dict[str, str]:
        from memportal.agents.models import AppKey
        from memportal.agents.services import appkey_create

        for slug, raw in DEMO_API_KEYS.items():
            prefix = raw.split("_")[1]
            if not AppKey.objects.filter(prefix=prefix).exists():
                appkey_create(tenant=tenants[slug], name="demo key (seed_demo)", permissions=("read", "write"),
                              raw_key=raw)
        return DEMO_API_KEYS
