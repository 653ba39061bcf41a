"""alice, known to two apps, sees both on "Your apps", stops one reading and remembering (the API
answers 423), resumes, erases one app's data, and reads a memory's ledger; at 1280x800 and 390x844."""

from __future__ import annotations

import pytest
import requests

from memportal.agents.services import appkey_create
from memportal.memory import selectors
from memportal.memory.models import Membership
from memportal.memory.services import memory_add
from memportal.memory.tenancy import membership_ensure
from tests.browser.conftest import RECORD_CSP_VIOLATIONS, reauthenticate, shot, sign_in
from tests.factories import PASSWORD, person, tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=sorted(VIEWPORTS))
def sized_page(request, browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[request.param])
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.viewport_name = request.param
    yield page
    context.close()


def _api(live_server, raw: str, method: str, path: str, body: dict) -> requests.Response:
    return requests.request(method, live_server.url + path, json=body, headers={"Authorization": f"Token {raw}"},
                            timeout=10)


def test_alice_controls_each_app_that_knows_her(sized_page, live_server):
    page, size = sized_page, sized_page.viewport_name
    alice, bob = person("alice"), person("bob")
    memory_add(member=alice.member, messages="I am vegetarian", agent_id="concierge", run_id="dinner-1")
    memory_add(member=bob.member, messages="Bob is allergic to peanuts", agent_id="concierge")
    # The sports app named her through its API (as a portal link would have made her membership).
    sports = membership_ensure(user=alice.user, tenant=tenant("sports_brand_portal"))
    Membership.objects.filter(pk=sports.pk).update(external_id="alice-runner")
    _, raw = appkey_create(tenant=tenant("sports_brand_portal"), name="sports backend", permissions=("read", "write"))
    assert _api(live_server, raw, "POST", "/v1/memories/",
                {"messages": "I run 10k on Sundays", "user_id": "alice-runner", "infer": False}).status_code == 200
    assert _api(live_server, raw, "POST", "/v2/memories/", {"filters": {"user_id": "alice-runner"}}).status_code == 200

    sign_in(page, alice.email, PASSWORD)
    page.goto("/you/apps/")
    cards = page.get_by_test_id("app-card")
    assert cards.count() == 2
    body = page.locator("main").inner_text()
    assert "Concierge App" in body and "Sports Brand Portal" in body and "peanuts" not in body
    shot(page, f"apps-01-overview-{size}")

    # Stop the sports app reading: its key gets 423 naming her, and nothing of hers otherwise.
    page.get_by_role("button", name="Stop Sports Brand Portal reading my memories").click()
    page.get_by_text("Sports Brand Portal can no longer read your memories.").wait_for()
    sports_card = page.locator("#app-sports_brand_portal")
    assert sports_card.get_by_test_id("reading-state").inner_text() == "stopped"
    shot(page, f"apps-02-reading-stopped-{size}")
    named = _api(live_server, raw, "POST", "/v2/memories/", {"filters": {"user_id": "alice-runner"}})
    assert named.status_code == 423 and "stopped this app from reading" in named.json()["detail"]
    everyone = _api(live_server, raw, "POST", "/v2/memories/", {"filters": {"user_id": "*"}})
    assert everyone.status_code == 200 and "10k" not in everyone.text

    # Stop it remembering: its adds are 423; resume both.
    sports_card.get_by_role("button", name="Stop Sports Brand Portal remembering me").click()
    page.get_by_text("Sports Brand Portal can no longer save new memories about you.").wait_for()
    added = _api(live_server, raw, "POST", "/v1/memories/",
                 {"messages": "I bought trail shoes", "user_id": "alice-runner", "infer": False})
    assert added.status_code == 423
    shot(page, f"apps-03-both-stopped-{size}")
    page.locator("#app-sports_brand_portal").get_by_role(
        "button", name="Let Sports Brand Portal read my memories again").click()
    page.get_by_text("Sports Brand Portal may read your memories again.").wait_for()
    assert _api(live_server, raw, "POST", "/v2/memories/",
                {"filters": {"user_id": "alice-runner"}}).status_code == 200

    # The sports memory's page: provenance and the ledger of the app's reads.
    page.locator("#app-sports_brand_portal").get_by_role("button", name="Show Sports Brand Portal's memories").click()
    page.wait_for_url("**/you/")
    page.locator("tr", has_text="I run 10k on Sundays").get_by_role("link", name="Details").click()
    page.get_by_test_id("ledger").wait_for()
    assert page.get_by_test_id("reads-by-apps").inner_text() == "2"  # before the stop and after resuming
    ledger = page.get_by_test_id("ledger").inner_text()
    assert "the app's server" in ledger
    shot(page, f"apps-04-memory-ledger-{size}")

    # Erase everything the sports app holds: re-authenticate, type the phrase, get a receipt.
    page.goto("/you/apps/")
    page.get_by_role("link", name="Erase everything Sports Brand Portal holds").click()
    reauthenticate(page, PASSWORD, screenshot=f"apps-05-reauthenticate-{size}",
                   then="**/you/apps/sports_brand_portal/erase/")
    shot(page, f"apps-06-erase-app-{size}")
    page.get_by_label("Type “delete everything” to confirm").fill("delete everything")
    page.get_by_role("button", name="Erase everything in Sports Brand Portal").click()
    page.wait_for_url("**/you/receipts/**")
    shot(page, f"apps-07-receipt-{size}")
    assert selectors.memory_count(member=sports) == 0
    assert selectors.memory_count(member=alice.member) == 1 and selectors.memory_count(member=bob.member) == 1
    assert page.evaluate("window.__cspViolations || []") == []
