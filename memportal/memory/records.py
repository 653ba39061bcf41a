"""What the service returns: plain, typed records built from mem0's payloads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: mem0's pgvector table, created by migration 0002 (not by mem0).
TABLE = "memportal_memories"
ENTITY_TABLE = "memportal_memories_entities"

_CORE_KEYS = frozenset({
    "data", "hash", "created_at", "updated_at", "text_lemmatized", "user_id", "agent_id", "run_id",
    "app_id", "actor_id", "role", "attributed_to", "expiration_date",
})


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


#: What ``datetime.isoformat()`` writes (mem0's own form for created_at/updated_at), with
#: microseconds that are not all zero (isoformat leaves those out).
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(?!000000)\d{6})?(?:[+-]\d\d:\d\d)?")


def iso_or_none(value: Any) -> str | None:
    """A stored time as MemoryRecord shows it (normalised ISO 8601; None if it does not parse).

    Exports call this twice per row: a string already in isoformat's form is only checked, not
    rebuilt (``isoformat`` was a fifth of a 100k-row export's time).
    """
    if isinstance(value, str) and _CANONICAL.fullmatch(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return None
        return value
    when = _when(value)
    return when.isoformat() if when else None


@dataclass(frozen=True)
class MemoryRecord:
    id: str
    text: str
    app_id: str | None
    subject_id: str
    agent_id: str | None
    run_id: str | None
    role: str | None
    created_at: datetime | None
    updated_at: datetime | None
    metadata: dict[str, Any] = field(default_factory=dict)
    score: float | None = None

    @classmethod
    def from_row(cls, memory_id: Any, payload: dict[str, Any], score: float | None = None) -> MemoryRecord:
        return cls(
            id=str(memory_id),
            text=payload.get("data", ""),
            app_id=payload.get("app_id"),
            subject_id=payload.get("user_id", ""),
            agent_id=payload.get("agent_id"),
            run_id=payload.get("run_id"),
            role=payload.get("role"),
            created_at=_when(payload.get("created_at")),
            updated_at=_when(payload.get("updated_at")),
            metadata={k: v for k, v in payload.items() if k not in _CORE_KEYS},
            score=score,
        )

    @property
    def was_edited(self) -> bool:
        return bool(self.created_at and self.updated_at and self.updated_at > self.created_at)

    def as_dict(self, *, user_id: str | None = None) -> dict[str, Any]:
        """The mem0-platform-shaped dict (``user_id`` is the caller's own name for the person)."""
        data: dict[str, Any] = {
            "id": self.id,
            "memory": self.text,
            "user_id": user_id,
            "agent_id": self.agent_id,
            "run_id": self.run_id,
            "app_id": self.app_id,
            "role": self.role,
            "metadata": self.metadata or None,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }
        if self.score is not None:
            data["score"] = round(self.score, 6)
        return data


@dataclass(frozen=True)
class MemoryPage:
    items: list[MemoryRecord]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


@dataclass(frozen=True)
class HistoryEntry:
    event: str
    old_text: str | None
    new_text: str | None
    at: datetime | None
    actor_id: str | None
    role: str | None
    source: str = ""  # "import" for a memory the person imported (MemoryEvent.source)


@dataclass(frozen=True)
class ScopeCount:
    value: str
    count: int
