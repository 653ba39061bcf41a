"""Responses to signed-in people (and the portal link page) are never cached: private, no-store."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client
from django.urls import resolve, reverse
from django.utils.cache import get_max_age

from memportal.memory import services
from memportal.middleware import PrivateNoStoreMiddleware

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",") if part.strip()}


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def assert_private_no_store(response, url: str) -> None:
    assert {"private", "no-store"} <= directives(response), (url, response.get("Cache-Control"))
    assert "public" not in directives(response), url


def test_your_data_pages_and_receipts_are_private_no_store(owner):
    services.memory_add(member=owner.member, messages="alice has a diagnosis", agent_id="concierge")
    receipt = services.memory_delete_all(member=owner.member, agent_id="nobody")
    client = signed_in(owner)
    for url in (reverse("you:list"), reverse("you:search") + "?q=diagnosis", reverse("you:receipt", args=[receipt.pk]),
                reverse("you:access"), reverse("you:pause"), reverse("account_change_password"),
                reverse("account_email"), reverse("agents:assistant")):
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)
        assert_private_no_store(response, url)


def test_staff_and_admin_pages_are_private_no_store(staff, admin_person, owner):
    for who, url in ((staff, reverse("staff:audit", args=["concierge_app"])), (staff, reverse("staff:index")),
                     (admin_person, reverse("agents:keys")), (admin_person, reverse("offboarding:index"))):
        response = signed_in(who).get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_private_no_store(response, url)


def test_even_errors_for_a_signed_in_user_are_private_no_store(owner):
    response = signed_in(owner).get(reverse("you:receipt", args=["00000000-0000-0000-0000-000000000000"]))
    assert response.status_code == 404
    assert_private_no_store(response, "missing receipt")


def test_a_view_that_already_said_no_store_keeps_its_own_directives(owner):
    # The portal link page uses never_cache (max-age=0, no-cache, must-revalidate, ...): kept.
    response = signed_in(owner).get(reverse("agents:portal_enter", args=["no-such-token"]))
    assert_private_no_store(response, "portal")
    assert "must-revalidate" in directives(response) and get_max_age(response) == 0


def test_the_portal_link_page_is_private_no_store_for_anonymous_visitors(client):
    response = client.get(reverse("agents:portal_enter", args=["no-such-token"]))
    assert response.status_code == 410
    assert_private_no_store(response, "portal")



def test_the_portal_link_page_is_covered_even_without_never_cache(rf):
    """The middleware does not rely on the view's own decorator for the one-time link."""
    middleware = PrivateNoStoreMiddleware(lambda request: HttpResponse("plain"))
    portal, login = rf.get("/portal/some-token/"), rf.get(reverse("account_login"))
    for request in (portal, login):
        request.user = AnonymousUser()
        request.resolver_match = resolve(request.path_info)
    assert_private_no_store(middleware(portal), "portal")
    assert "Cache-Control" not in middleware(login)  # anonymous public pages are left to their views
