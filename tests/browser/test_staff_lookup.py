"""Staff filter by person with the htmx lookup in a real browser, under the CSP; no select of everyone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from memportal.memory.services import memory_add
from tests.browser.conftest import shot, sign_in
from tests.factories import PASSWORD, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_find_a_person_by_typing_and_filter_by_them(page):
    staff = person("concierge_staff", "concierge_app", role="staff")
    alice, bob, jane = person("alice"), person("bob"), person("jane", "sports_brand_portal")
    memory_add(member=alice.member, messages="alice prefers window seats", agent_id="travel", run_id="trip-1")
    memory_add(member=bob.member, messages="bob is vegetarian", agent_id="food")
    memory_add(member=jane.member, messages="jane runs marathons")

    sign_in(page, staff.email, PASSWORD, then="**/staff/")  # staff land on their work
    page.goto("/staff/concierge_app/")
    person_field = page.get_by_label("Person")
    person_field.fill("ali")
    # htmx fills the field's <datalist> with the tenant's matches only.
    options = page.locator("#person-suggestions option")
    expect(options).to_have_count(2)
    assert [options.nth(i).get_attribute("value") for i in range(2)] == ["any", "alice@example.com"]
    person_field.fill("j")  # jane is another tenant's
    expect(options).to_have_count(1)
    assert options.first.get_attribute("value") == "any"

    person_field.fill("alice@example.com")
    page.get_by_label("Session").fill("trip")
    expect(page.locator("#session-suggestions option")).to_have_count(2)
    page.get_by_label("Session").fill("trip-1")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**person=alice%40example.com**")
    shot(page, "staff-lookup")
    body = page.locator("main").inner_text()
    assert "alice prefers window seats" in body
    assert "bob is vegetarian" not in body and "jane runs marathons" not in body
    assert page.locator("select#id_person, select#id_session").count() == 0
    assert page.watch.csp_messages(page) == [] and page.watch.errors == []
