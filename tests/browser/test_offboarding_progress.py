"""A superuser offboards concierge_app in a real browser and watches the progress bar reach 100%.

The job runs in a thread of the test process (as a ``manage.py procrastinate worker`` would next
to the site), with small batches and a pause between them so the bar visibly moves.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from memportal.memory.models import MemoryEvent, MemoryMessage
from memportal.offboarding.models import OffboardingJob
from memportal.offboarding.services import offboarding_execute
from tests.browser.conftest import reauthenticate, shot, sign_in
from tests.factories import PASSWORD, person
from tests.staff.bulk import bulk_memories, table_count

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALICE_MEMORIES, BOB_MEMORIES, JANE_MEMORIES = 2400, 1100, 40
BATCH = 250  # 3,500 memories: 14 batches, so the bar has many intermediate values


def _worker_in_background(errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            job = OffboardingJob.objects.get(state="queued")  # what the queue's task would run
            offboarding_execute(job=job, worker="browser-test", pause_seconds=0.4)
        except BaseException as exc:  # reported by the test body, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()  # Django connections are per thread: this one is the worker's

    thread = threading.Thread(target=run, name="offboarding-worker", daemon=True)
    thread.start()
    return thread


def _bar_value(page) -> int | None:
    value = page.locator("#offboarding-bar").get_attribute("value", timeout=5_000)
    return int(value) if value is not None else None


def test_an_admin_reauthenticates_types_the_app_id_and_watches_the_offboarding_reach_100(page):
    try:
        admin = person("root", "concierge_app", superuser=True)
        alice, bob = person("alice", "concierge_app"), person("bob", "concierge_app")
        jane = person("jane", "sports_brand_portal")
        concierge_ids = bulk_memories(member=alice.member, count=ALICE_MEMORIES, with_history=True)
        concierge_ids += bulk_memories(member=bob.member, count=BOB_MEMORIES, with_history=True)
        jane_ids = bulk_memories(member=jane.member, count=JANE_MEMORIES, with_history=True)
        jane_messages = MemoryMessage.objects.filter(subject_id=jane.member.subject_id).count()
        total = ALICE_MEMORIES + BOB_MEMORIES

        sign_in(page, admin.email, PASSWORD, then="**/offboarding/")  # a superuser lands on their work
        page.locator('a[href="/offboarding/tenants/concierge_app/"]').click()
        dry_run = page.get_by_test_id("dry-run")
        dry_run.wait_for()
        assert f"Memories\n{total}" in dry_run.inner_text()
        assert f"History rows\n{total}" in dry_run.inner_text()
        shot(page, "offboarding-01-dry-run")

        # The password comes before the typed confirmation; allauth brings us back to it.
        page.get_by_role("link", name="Continue to erase concierge_app").click()
        reauthenticate(page, PASSWORD, screenshot="offboarding-02-reauthenticate",
                       then="**/offboarding/tenants/concierge_app/confirm/")
        assert not OffboardingJob.objects.exists()
        page.get_by_label("Type the app_id to confirm").fill("concierge_app")
        shot(page, "offboarding-03-confirm")
        page.get_by_role("button", name="Erase everything in concierge_app").click()
        page.wait_for_url("**/offboarding/jobs/*/")

        job = OffboardingJob.objects.get()
        assert job.state == "queued" and job.requested_by == admin.user
        assert page.url.endswith(f"/offboarding/jobs/{job.pk}/")
        assert _bar_value(page) == 0
        OffboardingJob.objects.filter(pk=job.pk).update(batch_size=BATCH)

        errors: list[BaseException] = []
        worker = _worker_in_background(errors)
        seen: list[int] = []
        deadline = time.monotonic() + 90  # generous: the machine running the suite may be loaded
        while time.monotonic() < deadline:
            value = _bar_value(page)
            if value is not None and (not seen or seen[-1] != value):
                seen.append(value)
                if 0 < value < 100 and not any(0 < v < 100 for v in seen[:-1]):
                    shot(page, "offboarding-04-progress")
            if value == 100:
                break
            page.wait_for_timeout(100)
        receipt = page.get_by_test_id("receipt")
        receipt.wait_for(timeout=90_000)
        shot(page, "offboarding-05-receipt")
        worker.join(timeout=60)
        assert not worker.is_alive() and not errors, errors

        assert seen[-1] == 100, seen
        assert seen == sorted(seen), seen  # the bar only moves forward
        assert any(0 < v < 100 for v in seen), seen  # and was seen part-way, not only 0 then 100
        text = receipt.inner_text()
        assert f"{total} memories before, 0 after" in text, text
        # One row per store of the erasure registry; the last cell is the independent recount.
        recounts = receipt.locator("tbody tr td:last-child").all_inner_texts()
        assert len(recounts) >= 8 and all(cell.strip() == "0" for cell in recounts), recounts
        assert receipt.locator('tr[data-store="history"]').count() == 1
        assert "hx-trigger" not in page.locator("#offboarding-progress").evaluate("e => e.outerHTML")
        assert page.watch.errors == [] and page.watch.csp_messages(page) == []

        job.refresh_from_db()
        assert job.state == "done" and job.batches > 10 and job.memories_erased == total
        assert job.memories_after == 0 and job.verification["total"] == 0
        assert table_count("payload->>'app_id' = 'concierge_app'") == 0
        assert MemoryEvent.objects.filter(memory_id__in=concierge_ids).count() == 0
        concierge_subjects = [alice.member.subject_id, bob.member.subject_id]
        assert MemoryMessage.objects.filter(subject_id__in=concierge_subjects).count() == 0
        # The other tenant is untouched: same rows, same history, same raw messages.
        assert table_count("payload->>'app_id' = 'sports_brand_portal'") == JANE_MEMORIES
        assert table_count("id = ANY(%s::uuid[])", [jane_ids]) == JANE_MEMORIES
        assert MemoryEvent.objects.filter(memory_id__in=jane_ids).count() == JANE_MEMORIES
        assert MemoryMessage.objects.filter(subject_id=jane.member.subject_id).count() == jane_messages > 0
    finally:
        # memportal_memories is not a Django model: a transactional test's flush does not empty it.
        with connection.cursor() as cur:
            cur.execute("DELETE FROM memportal_memories")
