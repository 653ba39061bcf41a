"""The audit page and its exports: extreme dates and repeated parameters never 500 and never widen.

``date_to=9999-12-31`` was a 500 (the day after Python's last date overflows); now the last day
means "no upper bound". A parameter given twice used to be read as its last value, so the page
could show one filter while acting on another: now it is a form error (400; the export 404s).
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection

from memportal.memory import services
from memportal.memory.records import TABLE
from memportal.staff.models import AccessRecord, ExportJob
from tests.queue import run_one_job

pytestmark = pytest.mark.django_db

AUDIT = "/staff/concierge_app/"
EXPORT = "/staff/concierge_app/export/"


@pytest.fixture
def memories(owner, colleague, stranger):
    services.memory_add(member=owner.member, messages="alice prefers window seats", agent_id="travel", run_id="s1")
    services.memory_add(member=colleague.member, messages="bob is vegetarian", agent_id="food", run_id="s2")
    services.memory_add(member=stranger.member, messages="jane runs marathons", agent_id="travel")


def _memory_count() -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE}")
        return cur.fetchone()[0]


def _export_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# --- extreme dates ------------------------------------------------------------------------------------
@pytest.mark.parametrize("params, shown", [
    ({"date_to": "9999-12-31"}, True),
    ({"date_from": "0001-01-01"}, True),
    ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, True),
    ({"date_from": "9999-12-31"}, False),
    ({"date_from": "9999-12-31", "date_to": "9999-12-31"}, False),
    ({"date_from": "0001-01-01", "date_to": "0001-01-01"}, False),
    ({"date_to": "9999-12-31", "q": "window", "mode": "semantic"}, True),
])
def test_the_audit_page_accepts_the_first_and_last_dates(client, staff, memories, params, shown):
    client.force_login(staff.user)
    response = client.get(AUDIT, params)
    assert response.status_code == 200
    body = response.content.decode()
    assert ("alice prefers window seats" in body) is shown
    assert "jane runs marathons" not in body
    assert AccessRecord.objects.get().filters.get("date_to") == params.get("date_to")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("params", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01", "date_to": "9999-12-31"}])
def test_the_export_accepts_the_last_date_as_no_upper_bound(client, staff, memories, fmt, params):
    client.force_login(staff.user)
    response = client.get(EXPORT, {"fmt": fmt, **params})
    assert response.status_code == 200
    if fmt == "csv":
        texts = {row["text"] for row in _export_rows(response)}
    else:
        texts = {json.loads(line)["text"] for line in b"".join(response.streaming_content).decode().splitlines()}
    assert texts == {"alice prefers window seats", "bob is vegetarian"}


def test_the_export_of_the_far_future_is_empty_not_an_error(client, staff, memories):
    client.force_login(staff.user)
    response = client.get(EXPORT, {"fmt": "csv", "date_from": "9999-12-31"})
    assert response.status_code == 200 and _export_rows(response) == []


def test_a_background_export_job_with_the_last_date_finishes(client, staff, memories):
    client.force_login(staff.user)
    response = client.post(f"{EXPORT}jobs/", {"fmt": "csv", "date_to": "9999-12-31"})
    assert response.status_code == 302
    assert run_one_job() is True
    job = ExportJob.objects.get()
    assert job.state == "done" and job.total == 2


@pytest.mark.parametrize("params", [
    {"date_to": "10000-01-01"}, {"date_from": "0000-12-31"}, {"date_to": "9999-12-32"},
    {"date_from": "9999-12-31", "date_to": "0001-01-01"},
])
def test_dates_outside_the_calendar_are_a_form_error(client, staff, memories, params):
    client.force_login(staff.user)
    response = client.get(AUDIT, params)
    assert response.status_code == 400
    assert "alice prefers window seats" not in response.content.decode()
    assert client.get(EXPORT, {"fmt": "csv", **params}).status_code == 404


# --- repeated parameters -------------------------------------------------------------------------------
def _repeats(owner, colleague) -> list[tuple[str, list[str]]]:
    return [
        ("person", [owner.member.subject_id, colleague.member.subject_id]),
        ("person", [owner.member.subject_id, owner.member.subject_id]),
        ("agent", ["travel", "food"]),
        ("session", ["s1", "s2"]),
        ("q", ["window", "vegetarian"]),
        ("mode", ["text", "semantic"]),
        ("date_from", ["2000-01-01", "2001-01-01"]),
        ("date_to", ["9999-12-31", "2000-01-01"]),
        ("page_size", ["25", "50"]),
    ]


def test_a_repeated_filter_parameter_is_a_400_that_shows_nothing(client, staff, owner, colleague, memories):
    client.force_login(staff.user)
    before = _memory_count()
    for name, values in _repeats(owner, colleague):
        response = client.get(AUDIT, {name: values})
        assert response.status_code == 400, name
        body = response.content.decode()
        assert "given more than once" in body.lower(), name
        assert "alice prefers window seats" not in body and "bob is vegetarian" not in body, name
        assert client.get(EXPORT, {"fmt": "csv", name: values}).status_code == 404, name
        assert client.post(f"{EXPORT}jobs/", {"fmt": "csv", name: values}).status_code == 404, name
    assert not AccessRecord.objects.filter(memories_shown__gt=0).exists()
    assert not ExportJob.objects.exists()
    assert _memory_count() == before
