"""Exports: streamed JSON Lines / CSV with every field, logged, flat memory; background export jobs."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest

from memportal.memory import services
from memportal.staff.models import AccessRecord, ExportJob
from memportal.staff.selectors import access_records_for_member
from tests.queue import run_one_job
from tests.staff.bulk import bulk_memories

pytestmark = pytest.mark.django_db

FIELDS = {"id", "app_id", "subject_id", "person", "agent_id", "run_id", "role", "text", "created_at",
          "updated_at", "metadata"}


def _lines(response) -> list[str]:
    return b"".join(response.streaming_content).decode().splitlines()


def test_a_jsonl_export_has_every_field_and_writes_an_access_record(client, staff, owner, stranger):
    services.memory_add(member=owner.member, messages="alice likes tea", agent_id="concierge", run_id="r1",
                        metadata={"source": "chat"})
    services.memory_add(member=stranger.member, messages="jane likes coffee")
    client.force_login(staff.user)
    response = client.get("/staff/concierge_app/export/", {"fmt": "jsonl"})
    assert response.status_code == 200 and response.streaming
    rows = [json.loads(line) for line in _lines(response)]
    assert len(rows) == 1
    assert set(rows[0]) == FIELDS
    assert rows[0]["text"] == "alice likes tea" and rows[0]["person"] == "alice@example.com"
    assert rows[0]["metadata"] == {"source": "chat"} and rows[0]["run_id"] == "r1"
    record = AccessRecord.objects.get(action="export")
    assert record.filters["format"] == "jsonl" and record.memories_shown == 1
    assert list(access_records_for_member(member=owner.member)) == [record]
    assert not access_records_for_member(member=stranger.member).exists()


def test_a_csv_export_of_the_current_filter_neutralises_formulas(client, staff, owner, colleague):
    services.memory_add(member=owner.member, messages="=HYPERLINK(\"http://evil\")", agent_id="a1")
    services.memory_add(member=colleague.member, messages="bob note", agent_id="a2")
    client.force_login(staff.user)
    response = client.get("/staff/concierge_app/export/", {"fmt": "csv", "agent": "a1"})
    rows = list(csv.DictReader(io.StringIO("\n".join(_lines(response)))))
    assert len(rows) == 1 and set(rows[0]) == FIELDS
    assert rows[0]["text"].startswith("'=")
    assert AccessRecord.objects.get().subject_ids == [owner.member.subject_id]


def test_an_export_of_10000_memories_has_exactly_those_rows_and_flat_memory(
    client, staff, owner, stranger, settings
):
    # Memory is bounded by one batch (default 2,000 rows); a small batch makes that visible at 10k.
    settings.MEMPORTAL = {**settings.MEMPORTAL, "EXPORT_BATCH_SIZE": 500}
    bulk_memories(member=owner.member, count=10_000, text="x" * 400)
    bulk_memories(member=stranger.member, count=300)
    client.force_login(staff.user)
    response = client.get("/staff/concierge_app/export/", {"fmt": "jsonl"})
    tracemalloc.start()
    rows = 0
    size = 0
    ids = set()
    for chunk in response.streaming_content:  # one chunk per batch of lines
        size += len(chunk)
        for line in chunk.splitlines():
            row = json.loads(line)
            assert row["app_id"] == "concierge_app" and row["subject_id"] == owner.member.subject_id
            ids.add(row["id"])
            rows += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rows == len(ids) == 10_000
    assert size > 4_000_000
    # One keyset batch (500 of 10,000 rows) at a time: the peak (which includes this test's own
    # set of 10,000 ids, ~1.3 MB) stays well under the ~7.4 MB streamed.
    assert peak < size / 2, (peak, size)
    assert AccessRecord.objects.get().memories_shown == 10_000


def test_a_background_export_job_writes_a_file_the_requester_downloads(client, staff, owner, export_dir):
    bulk_memories(member=owner.member, count=1200)
    client.force_login(staff.user)
    response = client.post("/staff/concierge_app/export/jobs/", {"fmt": "csv"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and str(job.pk) in response["Location"]
    progress = client.get(f"/staff/concierge_app/export/jobs/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in progress and "<progress" in progress
    assert run_one_job() is True
    job.refresh_from_db()
    assert job.state == "done" and job.written == job.total == 1200 and job.percent == 100
    assert (export_dir / job.file_name).exists()
    progress = client.get(f"/staff/concierge_app/export/jobs/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in progress and 'value="100"' in progress
    download = client.get(f"/staff/concierge_app/export/jobs/{job.pk}/download/")
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert len(lines) == 1201
    # Queuing is logged, and so is the download, for everyone whose memories the file holds.
    assert [r.filters["delivery"] for r in AccessRecord.objects.order_by("at", "id")] == ["file", "file download"]
    downloaded = AccessRecord.objects.get(filters__delivery="file download")
    assert downloaded.subject_ids and downloaded.memories_shown > 0


def test_another_staff_member_cannot_download_someone_elses_export_job(client, staff, owner):
    from tests.factories import person

    other = person("other_staff", "concierge_app", role="staff")
    client.force_login(staff.user)
    client.post("/staff/concierge_app/export/jobs/", {"fmt": "jsonl"})
    job = ExportJob.objects.get()
    client.force_login(other.user)
    assert client.get(f"/staff/concierge_app/export/jobs/{job.pk}/").status_code == 404
