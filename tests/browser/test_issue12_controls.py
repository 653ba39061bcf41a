"""Issue 12 items 3, 4, 5 and 8 in a real browser, at 1280x800 and on a phone (390x844):
what an app's agent would see, auto-delete (person and staff), delete by date, import with a
preview, and downloading a receipt as signed JSON. bob's memories stay untouched throughout."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from memportal.crypto import document_verify
from memportal.memory import selectors
from memportal.memory.models import ErasureReceipt, Membership, MemoryEvent
from memportal.memory.records import TABLE
from memportal.memory.retention import retention_run
from memportal.memory.services import memory_add
from tests.browser.conftest import shot, sign_in
from tests.factories import PASSWORD, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def sized(request, page):
    page.set_viewport_size(VIEWPORTS[request.param])
    page.size_name = request.param
    return page


def _texts(member) -> list[str]:
    return sorted(m.text for m in selectors.memory_list(member=member, page_size=1000).items)


def _age(memory_id: str, days: float) -> None:
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET payload = jsonb_set(payload, '{{created_at}}', to_jsonb(%s::text)) "
                    "WHERE id = %s", [(timezone.now() - timedelta(days=days)).isoformat(), memory_id])


def _reauthenticate_if_asked(page, then: str) -> None:
    page.wait_for_load_state()
    if "/accounts/reauthenticate/" in page.url:
        shot(page, f"issue12-reauthenticate-{page.size_name}")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url(then)


def _people():
    alice, bob = person("alice"), person("bob")
    memory_add(member=bob.member, messages="Bob prefers aisle seats", agent_id="concierge", run_id="bob-1")
    return alice, bob


def test_what_would_the_agent_see(sized):
    page = sized
    alice, bob = _people()
    Membership.objects.filter(pk=alice.member.pk).update(external_id="alice-ext")
    for text in ("I prefer window seats on flights", "I am vegetarian", "My daughter is called Mia"):
        memory_add(member=alice.member, messages=text, agent_id="concierge", run_id="trip-1")
    sign_in(page, alice.email, PASSWORD)
    page.get_by_role("link", name="What would an app's agent see?").click()
    page.get_by_label("Question").fill("seats on a plane")
    page.get_by_role("button", name="Show what the agent sees").click()
    results = page.get_by_test_id("agent-results")
    results.wait_for()
    assert "window seats" in results.locator("li").first.inner_text()
    assert "aisle" not in page.locator("main").inner_text()
    shot(page, f"issue12-agent-view-{page.size_name}")
    results.locator("li").first.get_by_role("link", name="Correct").click()
    page.wait_for_url("**/edit/")
    assert _texts(bob.member) == ["Bob prefers aisle seats"]


def test_auto_delete_choice_job_and_receipt(sized):
    page = sized
    alice, bob = _people()
    old = memory_add(member=alice.member, messages="I liked jazz in 2020", agent_id="concierge", run_id="old")[0]
    _age(old.id, 200)
    memory_add(member=alice.member, messages="I like techno now", agent_id="concierge", run_id="new")
    sign_in(page, alice.email, PASSWORD)
    page.get_by_role("link", name="Auto-delete after 3, 18 or 36 months").click()
    page.get_by_label("Auto-delete memories").select_option(label="After 3 months")
    page.get_by_role("button", name="Save for Concierge App").click()
    page.get_by_text("Auto-delete for Concierge App: after 3 months").wait_for()
    shot(page, f"issue12-auto-delete-{page.size_name}")

    retention_run()  # the nightly job's body
    assert _texts(alice.member) == ["I like techno now"]
    assert not MemoryEvent.objects.filter(memory_id=old.id).exists()
    page.goto("/you/receipts/")
    row = page.locator("tr", has_text="Auto-delete")
    row.get_by_role("link").first.click()
    page.wait_for_url("**/you/receipts/*/")
    assert "your auto-delete choice" in page.get_by_test_id("receipt-range").inner_text()
    shot(page, f"issue12-auto-delete-receipt-{page.size_name}")
    assert _texts(bob.member) == ["Bob prefers aisle seats"]


def test_staff_set_the_default_auto_delete(sized):
    page = sized
    staff = person("concierge_staff", "concierge_app", role="staff")
    sign_in(page, staff.email, PASSWORD, then="**/staff/")
    page.goto("/staff/")
    page.get_by_role("link", name="Default auto-delete for Concierge App").click()
    page.get_by_label("Default auto-delete").select_option(label="After 18 months")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Default auto-delete for Concierge App: after 18 months").wait_for()
    assert "retention_months: 0 → 18" in page.locator("main").inner_text()
    shot(page, f"issue12-staff-default-auto-delete-{page.size_name}")


def test_delete_by_date_with_a_bad_range_then_the_last_hour(sized):
    page = sized
    alice, bob = _people()
    memory_add(member=alice.member, messages="I said this a minute ago", agent_id="concierge", run_id="now")
    older = memory_add(member=alice.member, messages="I said this last week", agent_id="concierge", run_id="wk")[0]
    _age(older.id, 7)
    sign_in(page, alice.email, PASSWORD)
    page.get_by_role("link", name="Delete by date (last hour, last day, a range)").click()
    _reauthenticate_if_asked(page, "**/you/erase/range/")
    page.get_by_label("A custom range").check()
    now = timezone.localtime()
    page.get_by_label("From (custom range)").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Until (custom range)").fill((now - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Show what this deletes").click()
    page.get_by_text("must be after the start; nothing was erased").wait_for()
    shot(page, f"issue12-range-bad-{page.size_name}")
    page.get_by_label("The last hour").check()
    page.get_by_role("button", name="Show what this deletes").click()
    assert "1 memory" in page.get_by_test_id("range-count").inner_text().replace("\n", " ")
    shot(page, f"issue12-range-confirm-{page.size_name}")
    page.get_by_role("button", name="Erase 1 memory").click()
    page.wait_for_url("**/you/receipts/*/")
    assert "Delete by date range" in page.locator("main").inner_text()
    shot(page, f"issue12-range-receipt-{page.size_name}")
    assert _texts(alice.member) == ["I said this last week"]
    assert _texts(bob.member) == ["Bob prefers aisle seats"]


def test_import_a_list_with_a_preview(sized):
    page = sized
    alice, bob = _people()
    memory_add(member=alice.member, messages="Lives in Lisbon", agent_id="concierge", run_id="a")
    sign_in(page, alice.email, PASSWORD)
    page.get_by_role("link", name="Import memories (a download file or a list of facts)").click()
    page.get_by_label("Or paste facts, one per line").fill(
        "- Is vegetarian\n• Prefers window seats\n3. Lives in Lisbon\n* Is vegetarian\n" + "x" * 2001)
    page.get_by_role("button", name="Preview the import").click()
    page.get_by_test_id("import-add").wait_for()
    assert page.get_by_test_id("import-add").locator("li").count() == 2
    assert "already remembered" in page.get_by_test_id("import-duplicates").inner_text()
    assert "the limit is 2000" in page.get_by_test_id("import-rejected").inner_text()
    assert _texts(alice.member) == ["Lives in Lisbon"]  # nothing stored by the preview
    shot(page, f"issue12-import-preview-{page.size_name}")
    page.get_by_role("button", name="Import 2 memories").click()
    page.get_by_text("Imported 2 memories into Concierge App").wait_for()
    shot(page, f"issue12-import-done-{page.size_name}")
    assert _texts(alice.member) == ["Is vegetarian", "Lives in Lisbon", "Prefers window seats"]
    assert _texts(bob.member) == ["Bob prefers aisle seats"]


def test_download_a_receipt_as_signed_json(sized):
    page = sized
    alice, _ = _people()
    memory = memory_add(member=alice.member, messages="I am vegetarian", agent_id="concierge", run_id="d")[0]
    _age(memory.id, 400)
    Membership.objects.filter(pk=alice.member.pk).update(retention_months=3)
    retention_run()
    receipt = ErasureReceipt.objects.get()
    sign_in(page, alice.email, PASSWORD)
    page.get_by_role("link", name="Your erasure receipts").click()
    shot(page, f"issue12-receipts-{page.size_name}")
    with page.expect_download() as info:
        page.locator("tr", has_text="Auto-delete").get_by_role("link", name="Signed JSON").click()
    signed = json.loads(Path(info.value.path()).read_text())
    assert signed["receipt"]["id"] == str(receipt.pk) and document_verify(signed)
