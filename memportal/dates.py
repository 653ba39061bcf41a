"""The one date format of the site: "3 Dec 2026, 10:15 UTC" (day precision: "3 Dec 2026").

Templates use the ``when`` filter and tag (memportal/templatetags/when.py, a template builtin, no
``{% load %}`` needed); Python that pre-formats rows calls :func:`format_when`.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.dates import MONTHS_3

PRECISIONS = ("minute", "second", "day")


def format_when(value: datetime | date, precision: str = "minute") -> str:
    """``value`` in the current time zone, e.g. "3 Dec 2026, 10:15 UTC" (always with the zone)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}")
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        day = f"{value.day} {str(MONTHS_3[value.month]).title()} {value.year}"
        if precision == "day":
            return day
        clock = f"{value:%H:%M:%S}" if precision == "second" else f"{value:%H:%M}"
        zone = value.tzname() or timezone.get_current_timezone_name()
        return f"{day}, {clock} {zone}"
    return f"{value.day} {str(MONTHS_3[value.month]).title()} {value.year}"


def iso_when(value: datetime | date) -> str:
    """The machine-readable twin for ``<time datetime=…>``."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.isoformat()
