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
import struct
import uuid
from collections.abc import Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection, transaction
from mem0.utils.lemmatization import lemmatize_for_bm25

from .errors import InvalidInput
from .models import Membership, MemoryEvent
from .records import TABLE, MemoryRecord
from .validation import clean_metadata, clean_optional_id, clean_text
from .versions import person_data_version_bump, tenant_data_version_bump

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
    payload["text_lemmatized"] = lemmatize_for_bm25(text)  # mem0's own (the text itself without spaCy)
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
    memory_rows: list[tuple[str, Sequence[float], dict[str, Any]]] = []
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
        memory_rows.append((memory_id, item.vector, payload))
        event_rows.append((memory_id, "ADD", None, text, None, item.role, False, when, when, now,
                           member.tenant.slug, member.subject_id, item.agent_id, item.run_id))
    with transaction.atomic():
        _copy(memory_rows, event_rows)
        # One token per tenant, not one per person: a load may write to thousands of people.
        tenant_data_version_bump(tenant_ids={m.tenant_id for m in allowed.values()})
    return [row[0] for row in memory_rows]


# --- the infer=False writer behind memory_add ----------------------------------------------------
@dataclass(frozen=True)
class NewMemory:
    """One non-system message to store verbatim, with its vector from mem0's embedder."""

    text: str
    role: str
    vector: Sequence[float]
    actor_id: str | None = None


def memories_write(
    *,
    member: Membership,
    memories: Sequence[NewMemory],
    agent_id: str | None,
    run_id: str | None,
    metadata: dict[str, Any],
) -> list[MemoryRecord]:
    """Write what mem0 2.2.1's ``Memory.add(infer=False)`` writes, with two COPYs instead of 2N INSERTs.

    mem0 (``_build_filters_and_metadata`` then ``_add_to_vector_store`` and ``_create_memory``)
    stores per message: payload = metadata, then user_id / agent_id / run_id (only when given),
    role, actor_id (only when the message has a name), data, hash (md5 of the text), created_at
    = updated_at (UTC ISO, now), text_lemmatized; plus one history row ADD (old None, new text,
    actor_id, role, created_at, updated_at, not deleted). It writes NO raw-message rows for
    infer=False. tests/memory/test_ingest_fast_path.py compares both writers row by row.

    Arguments must already be validated (the service does it). The caller owns the transaction.
    Returns the new records in message order (each created_at one microsecond after the
    previous one, as mem0's sequential loop would give, so lists keep the message order).
    """
    base: dict[str, Any] = dict(metadata)
    base["user_id"] = member.subject_id
    if agent_id:
        base["agent_id"] = agent_id
    if run_id:
        base["run_id"] = run_id
    now = datetime.now(UTC)
    memory_rows: list[tuple[str, Sequence[float], dict[str, Any]]] = []
    event_rows: list[tuple[Any, ...]] = []
    for i, memory in enumerate(memories):
        payload = deepcopy(base)
        payload["role"] = memory.role
        if memory.actor_id:
            payload["actor_id"] = memory.actor_id
        when = (now + timedelta(microseconds=i)).isoformat()
        payload["data"] = memory.text
        payload["hash"] = hashlib.md5(memory.text.encode(), usedforsecurity=False).hexdigest()
        payload["created_at"] = when
        payload["updated_at"] = when
        payload["text_lemmatized"] = lemmatize_for_bm25(memory.text)
        memory_id = str(uuid.uuid4())
        memory_rows.append((memory_id, memory.vector, payload))
        event_rows.append((memory_id, "ADD", None, memory.text, memory.actor_id, memory.role, False, when, when, now,
                           member.tenant.slug, member.subject_id, agent_id, run_id))
    _copy(memory_rows, event_rows)
    person_data_version_bump(subject_ids=[member.subject_id])  # in the caller's transaction, like the rows
    from memportal.agents.webhooks import memory_events_emit  # the history rows are webhook events

    memory_events_emit(app_id=member.tenant.slug, rows=[
        ("ADD", memory_id, member.subject_id, agent_id, run_id) for memory_id, _, _ in memory_rows])
    return [MemoryRecord.from_row(memory_id, payload) for memory_id, _, payload in memory_rows]


# --- COPY ----------------------------------------------------------------------------------------
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_BINARY_TRAILER = struct.pack(">h", -1)
_ROW_HEADER = struct.pack(">h", 3)
_JSONB_VERSION = b"\x01"


def _binary_rows(rows: Sequence[tuple[str, Sequence[float], dict[str, Any]]]) -> bytes:
    """COPY BINARY data for (id uuid, vector vector, payload jsonb).

    Binary because formatting 384 floats as text costs more than the rest of a row's write;
    float32 big-endian is pgvector's own wire format, so vectors are stored bit for bit as
    mem0's INSERT stores them (it sends Python floats that are float32 values).
    """
    parts = [_BINARY_HEADER]
    for memory_id, vector, payload in rows:
        vec = np.asarray(vector, dtype=">f4")
        vec_bytes = struct.pack(">HH", vec.shape[0], 0) + vec.tobytes()
        doc = _JSONB_VERSION + json.dumps(payload).encode()
        parts += [
            _ROW_HEADER,
            struct.pack(">i", 16), uuid.UUID(memory_id).bytes,
            struct.pack(">i", len(vec_bytes)), vec_bytes,
            struct.pack(">i", len(doc)), doc,
        ]
    parts.append(_BINARY_TRAILER)
    return b"".join(parts)


def _copy(
    memory_rows: Sequence[tuple[str, Sequence[float], dict[str, Any]]], event_rows: Sequence[tuple[Any, ...]]
) -> None:
    if not memory_rows:
        return
    events_table = MemoryEvent._meta.db_table
    connection.ensure_connection()
    with connection.connection.cursor() as cur:
        with cur.copy(f"COPY {TABLE} (id, vector, payload) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_binary_rows(memory_rows))
        with cur.copy(
            f"COPY {events_table} (memory_id, event, old_memory, new_memory, actor_id, role, is_deleted, "
            "created_at, updated_at, recorded_at, app_id, subject_id, agent_id, run_id) FROM STDIN"
        ) as copy:
            for row in event_rows:
                copy.write_row(row)
