"""Issue 12's rough edges, in Chromium at 1280x800 and 390x844, with and without JavaScript.

Every ``shot`` also runs axe-core and fails on any violation (tests/browser/conftest.py).
"""

from __future__ import annotations

import pytest
from django.test import Client

from memportal.agents.services import appkey_create
from memportal.memory import selectors
from memportal.memory.services import memory_add, memory_delete_all
from memportal.offboarding.services import offboarding_start
from memportal.staff.models import ExportJob
from memportal.staff.services import export_job_process
from tests.browser.conftest import PHONE, both_viewports, new_page, shot, sign_in
from tests.factories import PASSWORD, person, tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _label_before(page, selector: str) -> str:
    """The CSS ::before text of a cell (its data-label on a phone), e.g. '"Last used: "'."""
    return page.eval_on_selector(selector, "el => getComputedStyle(el, '::before').content")


@both_viewports
def test_an_htmx_delete_updates_showing_n_of_m_and_the_filter_counts(page):
    alice = person("alice")
    for text, agent in (("I am vegetarian", "chef"), ("I do not eat mushrooms", "chef"),
                        ("I prefer window seats", "travel")):
        memory_add(member=alice.member, messages=text, agent_id=agent, run_id="r1")
    sign_in(page, alice.email, PASSWORD)
    assert "Showing 3 of 3" in page.locator("#showing").inner_text()
    assert page.locator("#f-agent option", has_text="chef (2)").count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("tr", has_text="I do not eat mushrooms")
    row.get_by_role("link", name="Delete").click()
    row.wait_for(state="detached")
    assert "Showing 2 of 2" in page.locator("#showing").inner_text()
    assert page.locator("#f-agent option", has_text="chef (1)").count() == 1
    assert page.locator("#f-session option", has_text="r1 (2)").count() == 1
    assert page.locator("#all-total").inner_text() == "2"
    shot(page, "edges-01-deleted-counts")
    assert page.watch.errors == [] and page.watch.csp_messages(page) == []


@both_viewports
def test_error_pages_are_branded_and_say_why_and_the_api_keeps_json(page):
    alice = person("alice")
    sign_in(page, alice.email, PASSWORD)
    response = page.goto("/you/memories/no-such-memory/")
    assert response.status == 404
    assert "There is nothing here" in page.locator("h1").inner_text()
    assert page.get_by_role("link", name="Your data", exact=True).count() == 1  # the site navigation
    shot(page, "edges-02-404")
    response = page.goto("/staff/")
    assert response.status == 403
    assert page.get_by_test_id("reason").inner_text() == "Staff only."
    shot(page, "edges-03-403")
    api = page.request.get("/v1/memories/nope/nothing/")
    assert api.status == 404 and api.headers["content-type"].startswith("application/json")
    assert "detail" in api.json()


@both_viewports
def test_the_keys_page_confirms_revoke_copies_a_new_key_links_the_docs_and_labels_cells(page, viewport):
    staff = person("concierge_staff", "concierge_app", role="staff")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, staff.email, PASSWORD, then="**/staff/")  # staff with no memories land on their work
    page.goto("/api/keys/")
    page.get_by_label("Name").fill("concierge web backend")
    page.get_by_role("button", name="Create key").click()
    key_field = page.get_by_label("New key")
    assert key_field.input_value().startswith("mpk_") and key_field.get_attribute("readonly") is not None
    page.get_by_role("button", name="Copy key").click()
    page.locator("#copy-status").wait_for()
    assert page.locator("#copy-status").inner_text()  # copied, or "selected: press Ctrl+C"
    shot(page, "edges-04-keys-new")
    row = page.locator("tr", has_text="concierge web backend")
    assert row.locator('td[data-label="Last used"]').inner_text() == "never"
    assert row.locator('td[data-label="Expires"]').inner_text() == "never"
    if viewport == PHONE:  # the cells stack, each saying what it is
        assert _label_before(page, 'td[data-label="Last used"]') == '"Last used: "'
        assert _label_before(page, 'td[data-label="Expires"]') == '"Expires: "'

    row.get_by_role("link", name="Revoke").click()
    page.wait_for_url("**/revoke/")
    assert "Revoke key “concierge web backend”?" in page.locator("h1").inner_text()
    shot(page, "edges-05-keys-revoke-confirm")
    page.get_by_role("link", name="Cancel, keep it").click()
    assert "active" in page.locator("tr", has_text="concierge web backend").inner_text()
    page.locator("tr", has_text="concierge web backend").get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke this key").click()
    page.wait_for_url("**/api/keys/?tenant=concierge_app")
    assert "revoked" in page.locator("tr", has_text="concierge web backend").inner_text()

    page.get_by_role("link", name="API guide").click()
    page.wait_for_url("**/docs/api/")
    assert "mem0 platform compatible" in page.locator("h1").inner_text()
    shot(page, "edges-06-api-docs")


def test_the_keys_page_without_javascript_offers_a_selectable_key_and_a_revoke_page(browser, live_server):
    staff = person("concierge_staff", "concierge_app", role="staff")
    page = new_page(browser, live_server, viewport=PHONE, javascript=False)
    try:
        sign_in(page, staff.email, PASSWORD, then="**/staff/")
        page.goto("/api/keys/")
        page.get_by_label("Name").fill("cli")
        page.get_by_role("button", name="Create key").click()
        assert page.get_by_label("New key").input_value().startswith("mpk_")
        assert not page.get_by_role("button", name="Copy key").is_visible()  # needs JavaScript
        shot(page, "edges-07-keys-no-js")
        page.locator("tr", has_text="cli").get_by_role("link", name="Revoke").click()
        page.get_by_role("button", name="Revoke this key").click()
        assert "revoked" in page.locator("tr", has_text="cli").inner_text()
    finally:
        page.context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@both_viewports
def test_the_export_job_page_says_its_filter_in_words_and_why_its_file_is_gone(page, browser, live_server,
                                                                              viewport, javascript):
    staff = person("concierge_staff", "concierge_app", role="staff")
    alice = person("alice")
    memory_add(member=alice.member, messages="alice likes tea", agent_id="travel")
    if not javascript:
        page = new_page(browser, live_server, viewport=viewport, javascript=False)
    try:
        sign_in(page, staff.email, PASSWORD, then="**/staff/")
        page.goto("/staff/concierge_app/?agent=travel&page_size=25")
        words = page.get_by_test_id("filter-in-use").inner_text()
        assert "travel" in words and "page" not in words.lower()
        shot(page, f"edges-08-audit-{'js' if javascript else 'nojs'}")
        page.get_by_role("button", name="Start export job").click()
        page.wait_for_url("**/export/jobs/**")
        assert "travel" in page.get_by_test_id("job-filter").inner_text()
        assert "{" not in page.locator("main").inner_text()
        if not javascript:  # nothing polls: a plain reload link instead
            page.get_by_test_id("reload").wait_for()
        shot(page, f"edges-09-export-queued-{'js' if javascript else 'nojs'}")
        job = ExportJob.objects.get()
        export_job_process(job=job)
        if javascript:
            page.get_by_role("link", name="Download").wait_for()  # htmx polled it
        else:
            page.get_by_test_id("reload").click()
            page.get_by_role("link", name="Download").wait_for()
        memory_delete_all(member=alice.member)
        page.reload()
        state = page.get_by_test_id("export-state").inner_text()
        assert "Removed by an erasure on" in state and "Expired" not in state
        assert "The file expires" not in page.locator("main").inner_text()
        shot(page, f"edges-10-export-erased-{'js' if javascript else 'nojs'}")
    finally:
        if not javascript:
            page.context.close()


def test_offboarding_progress_offers_a_reload_link_without_javascript(browser, live_server):
    admin = person("root", "concierge_app", superuser=True)
    job = offboarding_start(tenant=tenant("concierge_app"), requested_by=admin.user)
    for viewport in (None, PHONE):
        page = new_page(browser, live_server, javascript=False, **({"viewport": viewport} if viewport else {}))
        try:
            sign_in(page, admin.email, PASSWORD, then="**/offboarding/")
            page.goto(f"/offboarding/jobs/{job.pk}/")
            page.get_by_test_id("reload").click()
            page.wait_for_url(f"**/offboarding/jobs/{job.pk}/")
            shot(page, "edges-11-offboarding-no-js")
        finally:
            page.context.close()


@both_viewports
def test_who_looked_counts_my_memories_in_words_with_labels_on_a_phone(page, viewport):
    staff = person("concierge_staff", "concierge_app", role="staff")
    alice, bob = person("alice"), person("bob")
    memory_add(member=alice.member, messages="alice likes tea", agent_id="travel")
    for i in range(4):
        memory_add(member=bob.member, messages=f"bob fact {i}", agent_id="travel")
    staff_client = Client()
    staff_client.force_login(staff.user)
    assert staff_client.get("/staff/concierge_app/", {"agent": "travel", "page_size": 25}).status_code == 200

    sign_in(page, staff.email, PASSWORD, then="**/staff/")
    page.goto("/staff/concierge_app/?agent=travel")
    if viewport == PHONE:
        assert _label_before(page, "table.audit-memories td[data-label='Memory']") == '"Memory: "'
    shot(page, "edges-12-staff-audit")
    page.goto("/staff/concierge_app/?agent=travel&page=999")
    page.wait_for_url("**page=1**")
    assert "There is no page 999" in page.locator("main").inner_text()
    assert "No memories match" not in page.locator("main").inner_text()
    shot(page, "edges-13-staff-page-past-the-end")

    page.context.clear_cookies()
    sign_in(page, alice.email, PASSWORD)
    page.goto("/you/who-looked/")
    row = page.get_by_test_id("staff-looks").locator("tbody tr").last
    assert row.locator('td[data-label="Your memories shown"]').inner_text() == "1"
    assert row.locator('td[data-label="Filter used"]').inner_text() == "Agent: travel"
    if viewport == PHONE:
        assert _label_before(page, 'td[data-label="Filter used"]') == '"Filter used: "'
    shot(page, "edges-14-who-looked")


def test_the_assistant_works_as_a_plain_form_post_and_stores_no_questions(browser, live_server, settings):
    settings.MEMPORTAL = {**settings.MEMPORTAL, "LLM": ""}
    alice = person("alice")
    for viewport in (None, PHONE):
        page = new_page(browser, live_server, javascript=False, **({"viewport": viewport} if viewport else {}))
        try:
            sign_in(page, alice.email, PASSWORD)
            page.goto("/assistant/?agent=chef_recommender&run=dinner-1")
            page.get_by_label("Your message").fill("I am vegetarian. Can you suggest a dinner place tonight?")
            page.get_by_role("button", name="Send").click()
            page.wait_for_url("**/assistant/?agent=chef_recommender&run=dinner-1")
            last = page.get_by_test_id("last-turn").inner_text()
            assert "Offline" in last and "Stored 1 memory" in last and "Questions and requests" in last
            shot(page, "edges-15-assistant-no-js")
        finally:
            page.context.close()
    stored = [m.text for m in selectors.memory_list(member=alice.member).items]
    assert stored and set(stored) == {"I am vegetarian."}  # the question never became a memory


def test_a_portal_person_sees_no_email_nag_or_password_link(page):
    _, raw = appkey_create(tenant=tenant("sports_brand_portal"), name="sports web")
    api = Client()
    response = api.post("/api/v1/portal-sessions", {"user_id": "runner-9"}, content_type="application/json",
                        headers={"Authorization": f"Token {raw}"})
    page.goto(response.json()["url"].removeprefix("http://testserver"))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/you/**")
    page.get_by_role("link", name="Account", exact=True).click()
    main = page.locator("main").inner_text()
    assert "You should really add" not in main and "came in through a link from an app" in main
    assert page.get_by_role("link", name="Password").count() == 0
    shot(page, "edges-16-portal-account")
