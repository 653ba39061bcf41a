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
