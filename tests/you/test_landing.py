"""Where people land after signing in, and what a portal-link person's account page says."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from memportal.memory import services
from tests.factories import PASSWORD, person

pytestmark = pytest.mark.django_db


def _sign_in(client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def test_tenant_staff_with_no_memories_land_on_the_staff_audit(client):
    staff = person("cs", "concierge_app", role="staff")
    assert _sign_in(client, staff.email).url == "/staff/"


def test_a_superuser_with_no_memories_lands_on_offboarding(client):
    root = person("root", "concierge_app", superuser=True)
    assert _sign_in(client, root.email).url == "/offboarding/"


def test_staff_with_memories_of_their_own_land_on_their_data(client):
    staff = person("cs", "concierge_app", role="staff")
    services.memory_add(member=staff.member, messages="I take the early train")
    assert _sign_in(client, staff.email).url == "/you/"


def test_a_person_lands_on_their_data(client, owner):
    assert _sign_in(client, owner.email).url == "/you/"


def test_a_portal_person_sees_no_nag_to_add_an_email_and_no_password_link(client):
    portal = person("portal_abc")
    portal.user.email = ""
    portal.user.set_unusable_password()
    portal.user.save()
    EmailAddress.objects.filter(user=portal.user).delete()
    client.force_login(portal.user)
    body = client.get("/accounts/email/").content.decode()
    assert "You should really add" not in body
    assert "came in through a link from an app" in body
    assert "/accounts/password/change/" not in body


def test_a_person_with_a_password_keeps_the_password_link(client, owner):
    client.force_login(owner.user)
    assert "/accounts/password/change/" in client.get("/accounts/email/").content.decode()
