"""A portal link in a real browser: it names the app and the person, signs in nobody until
Continue, warns someone else who is signed in, and the receipt shows every store recounted."""

from __future__ import annotations

import pytest
from django.test import Client

from memportal.agents.services import appkey_create
from memportal.memory.models import Membership
from tests.browser.conftest import shot, sign_in
from tests.factories import PASSWORD, person, tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _link(user_id: str) -> str:
    _, raw = appkey_create(tenant=tenant("sports_brand_portal"), name="sports web")
    api = Client()
    headers = {"Authorization": f"Token {raw}"}
    api.post("/v3/memories/add/", {"messages": [{"role": "user", "content": "I run on Sundays"}],
                                   "user_id": user_id}, content_type="application/json", headers=headers)
    response = api.post("/api/v1/portal-sessions", {"user_id": user_id}, content_type="application/json",
                        headers=headers)
    assert response.status_code == 201
    return response.json()["url"].removeprefix("http://testserver")


def test_a_link_opened_while_someone_else_is_signed_in_never_switches_them_silently(page):
    alice = person("alice")
    sign_in(page, alice.email, PASSWORD)
    page.goto(_link("runner-7"))
    shot(page, "portal-01-someone-else-signed-in")
    card = page.get_by_test_id("portal-confirm").inner_text()
    assert "Sports Brand Portal" in card and "runner-7" in card and alice.email in card
    page.get_by_role("link", name=f"No, stay signed in as {alice.email}").click()
    page.wait_for_url("**/you/")
    assert "I run on Sundays" not in page.locator("main").inner_text()


def test_continue_signs_in_the_linked_person_and_their_erasure_receipt_is_verified(page):
    page.goto(_link("runner-8"))
    shot(page, "portal-02-confirm")
    assert "someone-else" not in page.content()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/you/")
    assert "I run on Sundays" in page.locator("main").inner_text()
    member = Membership.objects.get(external_id="runner-8")
    assert member.user_id is not None

    # The confirm page (the no-JavaScript path; with htmx the row is removed in place).
    page.goto(page.locator("tr", has_text="I run on Sundays").get_by_role("link", name="Delete").get_attribute("href"))
    page.get_by_role("button", name="Delete this memory").click()
    page.wait_for_url("**/you/receipts/**")
    shot(page, "portal-03-receipt")
    main = page.locator("main").inner_text()
    assert "0 remaining in every store" in main and "Change history" in main
