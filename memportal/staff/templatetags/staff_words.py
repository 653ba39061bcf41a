"""``{{ filters|filter_words:person_names }}`` → [(label, words)]; see memportal.staff.wording."""

from __future__ import annotations

from django import template

from memportal.staff.wording import filter_sentence, filter_words

register = template.Library()


@register.filter(name="filter_words")
def filter_words_filter(filters, person_names=None) -> list[tuple[str, str]]:
    return filter_words(filters, person_names=person_names if isinstance(person_names, dict) else None)


@register.filter(name="filter_sentence")
def filter_sentence_filter(filters, person_names=None) -> str:
    return filter_sentence(filters, person_names=person_names if isinstance(person_names, dict) else None)
