"""Bulk load: many memories with precomputed embeddings, in the service's own table and schema.

Used by the benchmarks (and usable for imports). It writes exactly what ``memory_add`` with
``infer=False`` writes through mem0 (a row in ``memportal_memories`` whose payload carries
data, hash, created_at, updated_at, text_lemmatized, user_id, agent_id, run_id, role, app_id
and custom metadata, plus one ``MemoryEvent`` ADD row) but with PostgreSQL ``COPY`` instead
of one INSERT per memory. Scope comes only from the ``Membership`` each item carries: app_id
and user_id are never taken from the caller, so a bulk load cannot write into someone else's
scope any more than ``memory_add`` can.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from .errors import InvalidInput
from .models import Membership, MemoryEvent
from .records import TABLE
from .selectors import vector_literal
from .validation import clean_metadata, clean_optional_id, clean_text

ROLES = frozenset({"user", "assistant"})


@dataclass(frozen=True)
class BulkMemory:
    member: Membership
    text: str
    vector: Sequence[float]
    agent_id: str | None = None
    run_id: str | None = None
    role: str = "user"
    created_at: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _payload(item: BulkMemory, text: str, when: str) -> dict[str, Any]:
    # Same keys and order of precedence as mem0's Memory._create_memory for infer=False:
    # custom metadata first, then the scope and mem0's own keys on top (they cannot be spoofed).
    payload: dict[str, Any] = {**clean_metadata(item.metadata)}
    payload["app_id"] = item.member.tenant.slug
    payload["user_id"] = item.member.subject_id
    agent = clean_optional_id(item.agent_id, field="agent_id")
    run = clean_optional_id(item.run_id, field="run_id")
    if agent:
        payload["agent_id"] = agent
    if run:
        payload["run_id"] = run
    payload["role"] = item.role
    payload["data"] = text
    payload["hash"] = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
    payload["created_at"] = when
    payload["updated_at"] = when
    payload["text_lemmatized"] = text  # what mem0 stores when spaCy is not installed
    return payload


def memory_bulk_load(
    *, items: Iterable[BulkMemory], members: Iterable[Membership], dims: int = 384
) -> list[str]:
    """COPY ``items`` into the memory table and their ADD events into history, in one transaction.

    ``members`` is the set of memberships this load may write to; an item for any other
    membership (or an ended or paused one) is refused before anything is written.
    Returns the new memory ids, in the order of ``items``.
    """
    allowed = {
        m.pk: m
        for m in Membership.objects.filter(
            pk__in=[m.pk for m in members], ended_at__isnull=True, memory_paused=False
        ).select_related("tenant")
    }
    memory_rows: list[tuple[str, str, str]] = []
    event_rows: list[tuple[Any, ...]] = []
    now = datetime.now(UTC)
    for item in items:
        if item.member.pk not in allowed:
            raise InvalidInput("member", "is not one of the memberships this load may write to")
        if item.role not in ROLES:
            raise InvalidInput("role", "must be user or assistant")
        if len(item.vector) != dims:
            raise InvalidInput("vector", f"must have {dims} dimensions")
        member = allowed[item.member.pk]
        text = clean_text(item.text)
        when = (item.created_at or now).isoformat()
        memory_id = str(uuid.uuid4())
        payload = _payload(
            BulkMemory(
                member,
                text,
                item.vector,
                item.agent_id,
                item.run_id,
                item.role,
                item.created_at,
                item.metadata,
            ),
            text,
            when,
        )
        memory_rows.append((memory_id, vector_literal(item.vector), json.dumps(payload)))
        event_rows.append((memory_id, "ADD", None, text, None, item.role, False, when, when, now))
    events_table = MemoryEvent._meta.db_table
    with transaction.atomic():
        connection.ensure_connection()
        with connection.connection.cursor() as cur:
            with cur.copy(f"COPY {TABLE} (id, vector, payload) FROM STDIN") as copy:
                for row in memory_rows:
                    copy.write_row(row)
            with cur.copy(
                f"COPY {events_table} (memory_id, event, old_memory, new_memory, actor_id, role, is_deleted, "
                "created_at, updated_at, recorded_at) FROM STDIN"
            ) as copy:
                for row in event_rows:
                    copy.write_row(row)
    return [row[0] for row in memory_rows]
