"""Fast test data: thousands of memories in one INSERT, shaped exactly like mem0's rows.

Going through mem0 would embed every text (~2 ms each); these rows get random 384-d vectors,
which is all the export and erasure tests need.
"""

from __future__ import annotations

from django.db import connection

from memportal.memory.models import Membership, MemoryEvent, MemoryMessage

_STAMP = "to_char((now() - g * interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"


def bulk_memories(
    *, member: Membership, count: int, agent_id: str | None = None, run_id: str | None = None,
    text: str = "remembered fact", app_id: str | None = "__member__", with_history: bool = False,
) -> list[str]:
    """Insert ``count`` memories for the member; returns their ids. ``app_id=None`` omits the key."""
    tenant_slug = member.tenant.slug if app_id == "__member__" else app_id
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO memportal_memories (id, vector, payload) "
            "SELECT gen_random_uuid(), "
            "(SELECT array_agg(random()::real) FROM generate_series(1, 384) WHERE g > 0)::vector(384), "
            "jsonb_strip_nulls(jsonb_build_object("
            "'data', %s || ' #' || g, 'user_id', %s, 'app_id', %s::text, 'agent_id', %s::text, "
            "'run_id', %s::text, 'role', 'user', 'hash', md5(g::text), "
            f"'created_at', {_STAMP}, 'updated_at', {_STAMP})) "
            "FROM generate_series(1, %s) g RETURNING id",
            [text, member.subject_id, tenant_slug, agent_id, run_id, count],
        )
        ids = [str(r[0]) for r in cur.fetchall()]
    if with_history:
        with connection.cursor() as cur:
            cur.execute(
                # As the product writes them: each history row carries its memory's scope.
                "INSERT INTO memory_memoryevent (memory_id, event, new_memory, is_deleted, recorded_at, app_id, "
                "subject_id, agent_id, run_id) SELECT id, 'ADD', payload->>'data', false, now(), payload->>'app_id', "
                "payload->>'user_id', payload->>'agent_id', payload->>'run_id' "
                "FROM memportal_memories WHERE id = ANY(%s::uuid[])",
                [ids],
            )
        MemoryMessage.objects.bulk_create(
            MemoryMessage(session_scope=f"user_id={member.subject_id}", subject_id=member.subject_id,
                          role="user", content=f"{text} raw {i}")
            for i in range(10)
        )
    return ids


def table_count(where: str = "TRUE", params: list | None = None) -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM memportal_memories WHERE {where}", params or [])
        return cur.fetchone()[0]


def history_count(memory_ids: list[str]) -> int:
    return MemoryEvent.objects.filter(memory_id__in=memory_ids).count()


def bulk_people(*, tenant, count: int, prefix: str = "person", memories_each: int = 1,
                sessions_each: int = 1) -> int:
    """``count`` memberships (external ids ``<prefix>-00001``…, no user) with ``memories_each``
    memories each, spread over ``sessions_each`` sessions per person (run ids ``<prefix>-00001-s0``…),
    in two INSERTs. Vectors are constant: only the audit page's scope columns matter here."""
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO memory_membership (tenant_id, external_id, external_id_hash, subject_id, role, "
            "memory_paused, created_at, ended_reason) "
            "SELECT %s, %s || '-' || lpad(g::text, 5, '0'), '', 's_' || md5(%s || g::text || random()::text), "
            "'member', false, now(), '' FROM generate_series(1, %s) g",
            [tenant.pk, prefix, prefix, count],
        )
        cur.execute(
            "INSERT INTO memportal_memories (id, vector, payload) "
            "SELECT gen_random_uuid(), array_fill(0.1::real, ARRAY[384])::vector(384), jsonb_build_object("
            "'data', 'bulk fact ' || k, 'user_id', m.subject_id, 'app_id', %s::text, 'agent_id', 'bulk-agent', "
            "'run_id', m.external_id || '-s' || (k %% %s), 'role', 'user', 'hash', md5(m.subject_id || k), "
            f"'created_at', {_STAMP.replace('g *', 'k *')}, 'updated_at', {_STAMP.replace('g *', 'k *')}) "
            "FROM memory_membership m CROSS JOIN generate_series(1, %s) k "
            "WHERE m.tenant_id = %s AND m.external_id LIKE %s",
            [tenant.slug, sessions_each, memories_each, tenant.pk, prefix + "-%"],
        )
        return cur.rowcount
