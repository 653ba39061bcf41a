"""seed_demo creates the demo world once; running it again changes nothing."""

from __future__ import annotations

from django.core.management import call_command

from memportal.memory import selectors
from memportal.memory.models import Membership


def test_seed_demo_is_idempotent_and_keeps_people_apart(db):
    call_command("seed_demo")
    call_command("seed_demo")
    alice = Membership.objects.get(user__username="alice")
    cam = Membership.objects.get(user__username="cam")
    assert alice.tenant.slug == "concierge_app"
    assert {r.text for r in selectors.memory_list(member=alice).items} == {
        "I am vegetarian", "I do not eat mushrooms"}
    assert selectors.memory_count(member=cam) == 3
    assert Membership.objects.get(user__username="athlete_jane").tenant.slug == "sports_brand_portal"
    assert Membership.objects.get(user__username="concierge_staff").role == "staff"


def test_seed_demo_prints_the_address_bin_dev_uses(db, monkeypatch):
    import io

    monkeypatch.setenv("MEMPORTAL_ADDR", "0.0.0.0:8123")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "http://0.0.0.0:8123/accounts/login/" in out.getvalue()
    assert "8000" not in out.getvalue()


def test_the_demo_login_is_the_apps_person_alice(db):
    """The README's client example writes user_id="alice": it must show on alice@example.com's page."""
    from memportal.memory.models import Tenant
    from memportal.memory.tenancy import membership_for_external

    call_command("seed_demo")
    alice = Membership.objects.get(user__username="alice")
    tenant = Tenant.objects.get(slug="concierge_app")
    assert membership_for_external(tenant=tenant, external_id="alice", create=False) == alice
    assert Membership.objects.get(user__username="concierge_staff").external_id is None
