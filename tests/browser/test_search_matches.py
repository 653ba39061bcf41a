"""Search in a real browser, desktop and phone: matches are words, unrelated memories are not shown."""

from __future__ import annotations

import pytest

from memportal.memory.services import memory_add
from tests.browser.conftest import both_viewports, shot, sign_in
from tests.factories import PASSWORD, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@both_viewports
def test_search_shows_words_for_matches_and_hides_unrelated_memories(page):
    alice = person("alice")
    for text in ("I like window seats on long flights", "I am vegetarian", "My favourite football team is Benfica"):
        memory_add(member=alice.member, messages=text, agent_id="concierge", run_id="trip-1")
    sign_in(page, alice.email, PASSWORD)

    page.goto("/you/search/?q=seats")
    results = page.locator("#results")
    assert "window seats" in results.locator(".results li").first.inner_text()
    assert "strong match" in results.inner_text()
    assert "vegetarian" not in results.inner_text() and "Benfica" not in results.inner_text()
    assert "0." not in results.locator(".meta").first.inner_text()  # no raw score
    shot(page, "search-12-strong-match")

    page.goto("/you/search/?q=parking+garage")
    assert "Nothing matched" in page.locator("#results").inner_text()
    shot(page, "search-12-nothing-matched")
    assert page.watch.errors == []


def test_staff_semantic_search_shows_words_and_the_floor(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    alice = person("alice")
    staff = person("concierge_staff", role="staff")
    for text in ("I like window seats on long flights", "I am vegetarian"):
        memory_add(member=alice.member, messages=text, agent_id="concierge", run_id="trip-1")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.goto("/staff/concierge_app/?q=seats&mode=semantic")
    table = page.locator("table.audit-memories").inner_text()
    assert "window seats" in table and "match" in table
    assert "I am vegetarian" not in table
    shot(page, "search-12-staff-semantic")
