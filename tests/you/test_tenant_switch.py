from django.urls import reverse

from memportal.memory.tenancy import membership_ensure
from tests.factories import tenant
from tests.you.conftest import remember


def test_it_switches_among_own_memberships(alice_client, owner, alice_memory):
    second = membership_ensure(user=owner.user, tenant=tenant("sports_brand_portal"))
    from memportal.memory.services import memory_add

    memory_add(member=second, messages="Alice runs 10k", agent_id="coach")
    alice_client.post(reverse("you:tenant_switch"), {"tenant": "sports_brand_portal"})
    body = alice_client.get(reverse("you:list")).content.decode()
    assert "Alice runs 10k" in body and "Alice is vegetarian" not in body


def test_it_refuses_a_tenant_the_person_does_not_belong_to(alice_client, owner, alice_memory, stranger):
    remember(stranger, "Jane runs marathons", agent_id="coach")
    alice_client.post(reverse("you:tenant_switch"), {"tenant": "sports_brand_portal"})
    body = alice_client.get(reverse("you:list")).content.decode()
    assert "Jane runs marathons" not in body and "Alice is vegetarian" in body


def test_a_forged_session_value_cannot_reach_another_tenant(alice_client, owner, alice_memory, stranger):
    remember(stranger, "Jane runs marathons", agent_id="coach")
    session = alice_client.session
    session["you_tenant"] = "sports_brand_portal"
    session.save()
    body = alice_client.get(reverse("you:list")).content.decode()
    assert "Jane runs marathons" not in body and "Alice is vegetarian" in body
