"""alice manages her memories in a real browser; bob's stay untouched throughout."""

from __future__ import annotations

import pytest

from memportal.memory import selectors
from memportal.memory.services import memory_add
from tests.browser.conftest import reauthenticate, shot, sign_in
from tests.factories import PASSWORD, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def _texts(member) -> list[str]:
    return sorted(m.text for m in selectors.memory_list(member=member, page_size=1000).items)


def test_alice_sees_searches_corrects_deletes_and_erases_only_her_memories(page):
    alice, bob = person("alice"), person("bob")
    for text, run in (("I am vegetarian", "dinner-1"), ("I prefer window seats on flights", "trip-1"),
                      ("My daughter is called Mia", "family-1")):
        memory_add(member=alice.member, messages=text, agent_id="concierge", run_id=run)
    memory_add(member=bob.member, messages="Bob is allergic to peanuts", agent_id="concierge", run_id="bob-1")
    bob_before = _texts(bob.member)

    sign_in(page, alice.email, PASSWORD)
    shot(page, "01-list")
    body = page.locator("main").inner_text()
    assert "I am vegetarian" in body and "window seats" in body
    assert "peanuts" not in body

    # Search, live (htmx, debounced): typing alone updates the results.
    page.get_by_role("link", name="Search", exact=True).click()
    page.get_by_label("Search for").fill("food preferences")
    page.locator("#results .results li").first.wait_for()
    assert "vegetarian" in page.locator("#results .results li").first.inner_text()
    assert "q=food%20preferences" in page.url  # hx-push-url keeps the result linkable
    assert "peanuts" not in page.locator("#results").inner_text()
    shot(page, "02-search")

    # Correct one memory; its history keeps the old text.
    page.goto("/you/")
    page.locator("tr", has_text="window seats").get_by_role("link", name="Correct").click()
    shot(page, "03-edit")
    page.get_by_label("Memory text").fill("I prefer aisle seats on flights")
    page.get_by_role("button", name="Save correction").click()
    page.get_by_text("Memory corrected").wait_for()
    assert "Corrected" in page.locator("main").inner_text()
    shot(page, "04-detail-history")
    assert "I prefer aisle seats on flights" in _texts(alice.member)

    # Delete one: htmx confirm (window.confirm, no inline JS), row removed without a reload.
    page.goto("/you/")
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("tr", has_text="My daughter is called Mia")
    row.get_by_role("link", name="Delete").click()
    row.wait_for(state="detached")
    assert "Memory deleted" in page.locator("#live").inner_text()
    assert page.locator("#all-total").inner_text() == "2"
    shot(page, "05-deleted-one")
    assert "My daughter is called Mia" not in _texts(alice.member)

    # Delete everything: re-authenticate, type the phrase, see the receipt.
    page.get_by_role("link", name="everything agents remember about you").click()
    reauthenticate(page, PASSWORD, screenshot="06-reauthenticate", then="**/you/erase/everything/")
    shot(page, "07-erase-all")
    page.get_by_label("Type “delete everything” to confirm").fill("delete everything")
    page.get_by_role("button", name="Erase everything").click()
    page.wait_for_url("**/you/receipts/**")
    receipt = page.locator("main").inner_text()
    assert "0 remaining in every store" in receipt
    shot(page, "08-receipt")
    assert _texts(alice.member) == []

    page.goto("/you/")
    assert "Nothing is remembered about you yet" in page.locator("main").inner_text()
    shot(page, "09-empty")

    assert _texts(bob.member) == bob_before
    assert page.evaluate("Array.isArray(window.__cspViolations)")  # the recorder ran
    assert page.watch.csp_messages(page) == []
    assert page.watch.errors == []


def test_stored_xss_is_shown_as_text_and_never_runs(page):
    alice = person("alice")
    memory_add(member=alice.member, messages=XSS, agent_id="concierge", run_id="x-1")
    sign_in(page, alice.email, PASSWORD)
    assert XSS in page.locator("main").inner_text()
    page.goto("/you/search/?q=script")
    assert XSS in page.locator("#results").inner_text()
    memory_id = selectors.memory_list(member=alice.member).items[0].id
    page.goto(f"/you/memories/{memory_id}/")
    assert XSS in page.locator("main").inner_text()
    shot(page, "10-xss-as-text")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main img[src='x']").count() == 0


def test_pages_work_on_a_phone_and_without_javascript(browser, live_server):
    alice = person("alice")
    memory_add(member=alice.member, messages="I am vegetarian", agent_id="concierge", run_id="d-1")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, alice.email, PASSWORD)
        shot(page, "11-phone-no-js-list")
        page.locator("tr", has_text="I am vegetarian").get_by_role("link", name="Delete").click()
        page.wait_for_url("**/delete/")
        shot(page, "12-phone-no-js-confirm")
        page.get_by_role("button", name="Delete this memory").click()
        page.wait_for_url("**/you/receipts/**")
        assert "0 remaining in every store" in page.locator("main").inner_text()
        assert _texts(alice.member) == []
    finally:
        context.close()
