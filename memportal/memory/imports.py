"""A person's import: facts from a memportal download file or a plain list (one per line, as
copied out of ChatGPT's or Claude's memory screens), parsed into a preview, then stored.

``import_parse`` only reads: it says what would be added, what is skipped as a duplicate (of a
memory the person already has, or of an earlier line) and what is rejected and why.
``memory_import`` stores through ``services.memory_add_many`` (verbatim, never an LLM, refused
when memory is paused or the membership ended) and marks the history rows ``source="import"``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from . import selectors, services
from .errors import InvalidInput
from .models import Membership, MemoryEvent
from .records import MemoryRecord
from .validation import clean_text

#: What a list copied from a chat app's memory screen puts before each fact: "- ", "* ", "• ",
#: "1. ", "2) ", "[ ] " (possibly several, e.g. "- 1. ").
_BULLET = re.compile(r"^(?:[-*•·‣◦▪–—](?:\s+|$)|\(?\d{1,4}[.)](?:\s+|$)|\[[ xX]?\](?:\s+|$))")
EXPORT_FORMAT_PREFIX = "memportal.export/"


@dataclass
class ImportPreview:
    """What an import would do. ``add``: texts to store, in order; ``duplicates``: (text, why);
    ``rejected``: (line number or item, what was there, why)."""

    source: str  # "download" or "list"
    add: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)


def limits() -> tuple[int, int, int]:
    """(bytes per file or paste, facts per import, characters per fact)."""
    facts = min(settings.MEMPORTAL["MAX_IMPORT_FACTS"], settings.MEMPORTAL["MAX_MESSAGES_PER_IMPORT"])
    return settings.MEMPORTAL["MAX_IMPORT_BYTES"], facts, settings.MEMPORTAL["MAX_MEMORY_CHARS"]


def _strip_bullets(line: str) -> str:
    text = line.strip()
    while (match := _BULLET.match(text)) is not None:
        text = text[match.end():].lstrip()
    return text


def _candidates(raw: bytes) -> tuple[str, list[tuple[int, Any]]]:
    """(source, [(number, value)]) from a download file or a plain list. InvalidInput for a file
    that is not UTF-8 text or a download of a format this site does not read."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file", "is not UTF-8 text (upload a download file or a plain list of facts)") from None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InvalidInput("file", f"looks like JSON but does not parse (line {exc.lineno}): {exc.msg}") from None
        if not isinstance(doc, dict) or not str(doc.get("format", "")).startswith(EXPORT_FORMAT_PREFIX):
            raise InvalidInput("file", "is JSON but not a memportal download (its \"format\" should start with "
                                       f"\"{EXPORT_FORMAT_PREFIX}\")")
        memories = doc.get("memories")
        if not isinstance(memories, list):
            raise InvalidInput("file", "is a memportal download without a \"memories\" list")
        found = []
        for n, item in enumerate(memories, 1):
            value = item.get("memory", item.get("text")) if isinstance(item, dict) else None
            found.append((n, value))
        return "download", found
    return "list", [(n, _strip_bullets(line)) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def import_parse(*, member: Membership, raw: bytes) -> ImportPreview:
    """Read a file or pasted text into a preview; stores nothing. InvalidInput when the whole
    input is unusable (too big, too many facts, not text, nothing in it)."""
    max_bytes, max_facts, _ = limits()
    if len(raw) > max_bytes:
        raise InvalidInput("file", f"is {len(raw):,} bytes; the limit is {max_bytes:,}")
    source, items = _candidates(raw)
    if not items:
        raise InvalidInput("file", "has no facts in it")
    if len(items) > max_facts:
        raise InvalidInput("file", f"has {len(items):,} facts; the limit is {max_facts:,} per import")
    preview = ImportPreview(source=source)
    seen: set[str] = set()
    for n, value in items:
        if isinstance(value, str) and not _strip_bullets(value):
            preview.rejected.append((n, value, "nothing left after removing the bullet"))
            continue
        try:
            text = clean_text(value, field="fact")
        except InvalidInput as exc:
            shown = value if isinstance(value, str) else json.dumps(value)[:80]
            preview.rejected.append((n, shown[:120], f"{exc.message}"))
            continue
        if text in seen:
            preview.duplicates.append((text, "appears earlier in this import"))
            continue
        seen.add(text)
        preview.add.append(text)
    existing = selectors.memory_find_texts(member=member, texts=preview.add) if preview.add else {}
    if existing:
        preview.duplicates += [(t, "already remembered") for t in preview.add if t in existing]
        preview.add = [t for t in preview.add if t not in existing]
    return preview


@dataclass(frozen=True)
class ImportResult:
    added: list[MemoryRecord]
    skipped: int


def memory_import(*, member: Membership, texts: list[str]) -> ImportResult:
    """Store the previewed facts (verbatim, infer=False), skipping any the person gained meanwhile.

    One transaction under the person's advisory lock (as ``memory_remember``): two confirms of the
    same preview store it once. MemoryPaused / MembershipEnded (nothing stored) when memory is
    paused or the app ended in between.
    """
    _, max_facts, _ = limits()
    if not isinstance(texts, list) or len(texts) > max_facts:
        raise InvalidInput("facts", f"at most {max_facts} per import")
    cleaned = [clean_text(t, field="fact") for t in texts]
    with transaction.atomic():
        services._require_writable(member)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [member.subject_id])
        existing = selectors.memory_find_texts(member=member, texts=cleaned) if cleaned else {}
        new = [t for t in dict.fromkeys(cleaned) if t not in existing]
        added = services.memory_add_many(
            member=member, messages=[{"role": "user", "content": t} for t in new], metadata={"source": "import"},
        ) if new else []
        MemoryEvent.objects.filter(memory_id__in=[r.id for r in added], event="ADD").update(source="import")
    return ImportResult(added=added, skipped=len(cleaned) - len(added))
