"""``{{ value|when }}`` → "3 Dec 2026, 10:15 UTC"; ``{% when value %}`` → the same inside ``<time>``.

Both take an optional precision: ``|when:"second"``, ``|when:"day"``, ``{% when value "day" %}``.
Empty values give "" (so ``|when|default:"never"`` works). A builtin (settings.TEMPLATES), so
every template has them without ``{% load %}``.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from memportal.dates import format_when, iso_when

register = template.Library()


@register.filter(name="when")
def when_filter(value, precision: str = "minute") -> str:
    if not value:
        return ""
    return format_when(value, precision)


@register.simple_tag(name="when")
def when_tag(value, precision: str = "minute") -> str:
    if not value:
        return ""
    return format_html('<time datetime="{}">{}</time>', iso_when(value), format_when(value, precision))
