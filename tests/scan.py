"""Look for text anywhere: every text-like column of every table, and the export folder.

Used by the erasure tests and the attack suite (tests/attack): after an erasure, none of the
erased texts or identifiers may be found anywhere the product stores data.
"""

from __future__ import annotations

from pathlib import Path

from django.db import connection

#: Column types whose text a LIKE over ``col::text`` can find (jsonb and arrays included).
TEXT_TYPES = ("text", "character varying", "jsonb", "json", "ARRAY", "character")


def text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = ANY(%s) ORDER BY table_name, column_name",
            [list(TEXT_TYPES)],
        )
        return cur.fetchall()


def _like(needle: str) -> str:
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def database_find(needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every column that still contains a needle."""
    found = []
    needles = [n for n in needles if n]
    if not needles:
        return found
    with connection.cursor() as cur:
        for table, column in text_columns():
            for needle in needles:
                cur.execute(f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1', [_like(needle)])
                if cur.fetchone():
                    found.append((table, column, needle))
    return found


def files_find(folder: Path, needles: list[str]) -> list[tuple[str, str]]:
    found = []
    if not folder.exists():
        return found
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [(path.name, n) for n in needles if n and n.encode() in data]
    return found
