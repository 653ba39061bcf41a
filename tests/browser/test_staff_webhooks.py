"""The staff webhooks page in a real browser, under the CSP: every delivery attempt is listed."""

from __future__ import annotations

import pytest

from tests.agents.test_webhooks import delivery_retried_once
from tests.browser.conftest import shot, sign_in
from tests.factories import PASSWORD, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_see_the_attempts_of_a_delivery_that_was_retried(page):
    staff = person("concierge_staff", "concierge_app", role="staff")
    delivery_retried_once()

    sign_in(page, staff.email, PASSWORD, then="**/staff/")
    page.goto("/staff/concierge_app/")
    page.get_by_role("link", name="webhooks and deliveries").click()
    page.wait_for_url("**/staff/concierge_app/webhooks/")
    shot(page, "staff-webhooks")
    attempts = page.get_by_test_id("attempt")
    assert attempts.count() == 2
    assert "HTTP 500" in attempts.nth(0).inner_text() and "HTTP 200" in attempts.nth(1).inner_text()
    body = page.locator("main").inner_text()
    assert "Delivered" in body and "memory_add" in body and "aisle" not in body
    assert page.watch.csp_messages(page) == [] and page.watch.errors == []
