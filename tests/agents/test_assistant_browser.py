"""The assistant in a real browser (offline mode): a message is stored and recalled next turn."""

from __future__ import annotations

import os

import pytest
from django.test import Client

from tests.factories import PASSWORD, person

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_offline_assistant_stores_and_recalls_in_the_browser(live_api, settings):
    from playwright.sync_api import expect, sync_playwright

    settings.MEMPORTAL = {**settings.MEMPORTAL, "LLM": ""}
    alice = person("alice", "concierge_app")
    django_client = Client()
    assert django_client.login(username=alice.user.username, password=PASSWORD)
    session = django_client.cookies["sessionid"].value

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
        )
        try:
            context = browser.new_context()
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_api}])
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{live_api}/assistant/?agent=travel_planner&run=browser-1")
            expect(page.locator("#offline-notice")).to_contain_text("Offline mode")

            page.fill("#turn-message", "I always book an aisle seat on trains")
            page.click("#turn-form button[type=submit]")
            expect(page.locator("#transcript .stored-note")).to_have_count(1)
            expect(page.locator("#turn-message")).to_have_value("")  # assistant.js reset the form

            page.fill("#turn-message", "Which seat do I book on trains?")
            page.click("#turn-form button[type=submit]")
            expect(page.locator("#transcript .recalled-list").last).to_contain_text(
                "I always book an aisle seat on trains")
            expect(page.locator("#transcript .reply").last).to_contain_text("not AI")
            assert not [e for e in errors if "Content Security Policy" in e]
        finally:
            browser.close()
