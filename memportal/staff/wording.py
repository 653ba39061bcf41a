"""Filters in words, for people: the audit page's "Filter in use", an export job, "Who looked".

A stored filter is a dict (AuditFilter.as_dict, audit_filter_to_json, or an access record's
filters, where typed text is a hash). Shown raw it reads as a Python dict with job UUIDs and
paging internals; here each meaningful condition becomes a (label, words) pair and the rest
(page, page_size, limit, job ids, empty values) is left out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from memportal.dates import format_when
from memportal.memory.tenant_selectors import ANY

#: never shown: paging and bookkeeping, not what was looked at
INTERNAL = {"page", "page_size", "limit", "job", "mode"}
_DELIVERY = {
    "download": "streamed download",
    "file": "background export file",
    "file download": "download of an export file",
}
_FORMAT = {"jsonl": "JSON Lines", "csv": "CSV"}


def _day(value: Any) -> str:
    try:
        return format_when(date.fromisoformat(str(value)), "day")
    except ValueError:
        return str(value)


def filter_words(filters: dict[str, Any] | None, *, person_names: dict[str, str] | None = None
                 ) -> list[tuple[str, str]]:
    """[(label, words)] for the conditions of ``filters``, in a fixed, readable order.

    ``person_names`` maps a subject id to what to call that person (a label, or "you").
    """
    f = {k: v for k, v in (filters or {}).items() if v not in (None, "", [], {}) and k not in INTERNAL}
    out: list[tuple[str, str]] = []
    person = f.pop("person", None)
    if person is not None:
        if person in ("any", ANY):
            out.append(("Person", "anyone with a person id"))
        else:
            out.append(("Person", (person_names or {}).get(person, "one person")))
    for key, label in (("agent", "Agent"), ("session", "Session")):
        value = f.pop(key, None)
        if value is not None:
            out.append((label, f"any {key}" if value in ("any", ANY) else str(value)))
    semantic = (filters or {}).get("mode") == "semantic"
    typed = f.pop("search", None) or f.pop("text", None)
    length = f.pop("search_length", None)
    f.pop("search_hash", None)
    if typed is not None:
        out.append(("Meaning like" if semantic else "Text contains", f"“{typed}”"))
    elif length is not None:
        kind = "meaning search" if semantic else "text search"
        out.append(("Search", f"a {kind} ({length} characters; the words are not kept)"))
    date_from, date_to = f.pop("date_from", None), f.pop("date_to", None)
    if date_from:
        out.append(("From", _day(date_from)))
    if date_to:
        out.append(("To", _day(date_to)))
    fmt = f.pop("format", None)
    if fmt:
        out.append(("Format", _FORMAT.get(fmt, str(fmt))))
    delivery = f.pop("delivery", None)
    if delivery:
        out.append(("How", _DELIVERY.get(delivery, str(delivery))))
    if f.pop("audit_report", None):
        out.append(("What", "the nightly audit report (counts only)"))
    for key, value in sorted(f.items()):  # anything newer: still words, never a dict
        out.append((key.replace("_", " ").capitalize(), str(value)))
    return out


def filter_sentence(filters: dict[str, Any] | None, *, person_names: dict[str, str] | None = None) -> str:
    """The same as one line: "Agent: concierge · From: 3 Dec 2026", or "whole tenant"."""
    words = filter_words(filters, person_names=person_names)
    return " · ".join(f"{label}: {value}" for label, value in words) or "the whole tenant"
