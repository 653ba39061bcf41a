"""One date format everywhere, and counts that agree with their nouns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import timezone

from memportal.dates import format_when
from memportal.offboarding.management.commands.offboard_app import _n
from memportal.staff.wording import filter_sentence, filter_words

MOMENT = datetime(2026, 12, 3, 10, 15, 42, tzinfo=UTC)


def test_the_date_format_has_the_time_zone():
    assert format_when(MOMENT) == "3 Dec 2026, 10:15 UTC"
    assert format_when(MOMENT, "second") == "3 Dec 2026, 10:15:42 UTC"
    assert format_when(date(2026, 12, 3), "day") == "3 Dec 2026"


def test_the_when_filter_and_tag_need_no_load_and_follow_the_active_time_zone():
    html = Template("{{ t|when }} / {% when t %} / [{{ none|when|default:'never' }}]").render(
        Context({"t": MOMENT, "none": None}))
    assert html == ('3 Dec 2026, 10:15 UTC / <time datetime="2026-12-03T10:15:42+00:00">3 Dec 2026, 10:15 UTC</time>'
                    " / [never]")
    with timezone.override("Europe/Berlin"):
        assert format_when(MOMENT) == "3 Dec 2026, 11:15 CET"


def test_no_template_formats_dates_its_own_way():
    from pathlib import Path

    for path in Path(__file__).resolve().parents[1].joinpath("templates").rglob("*.html"):
        text = path.read_text()
        assert "|date" not in text and "naturaltime" not in text, path


def test_filters_read_as_words_without_internals():
    words = filter_words({"agent": "travel", "page": 3, "page_size": 50, "limit": 25, "job": "5f1c-uuid",
                          "date_to": "2026-01-31", "search_hash": "x", "search_length": 4, "mode": "semantic"})
    assert words == [("Agent", "travel"), ("Search", "a meaning search (4 characters; the words are not kept)"),
                     ("To", "31 Jan 2026")]
    assert filter_sentence({"person": "subj-1", "delivery": "file"}, person_names={"subj-1": "you"}) == (
        "Person: you · How: background export file")
    assert filter_sentence({}) == "the whole tenant"


def test_counts_agree_with_their_nouns():
    assert _n(1, "memory", "memories") == "1 memory" and _n(2, "memory", "memories") == "2 memories"
    member = SimpleNamespace(tenant=SimpleNamespace(name="Concierge App"))
    one = render_to_string("you/erase_all.html", {"count": 1, "member": member, "form": None})
    assert "the <strong>one</strong> memory" in one and "all <strong>1</strong>" not in one
    many = render_to_string("you/erase_all.html", {"count": 4, "member": member, "form": None})
    assert "all <strong>4</strong> memories" in many
