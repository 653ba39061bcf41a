"""Per-person data versions: what a cached view of someone's memories is keyed on.

A version is a random token in ``memportal_data_version`` (accounts.DataVersion). Every write and
every erasure replaces it *in the write's own transaction*, with an upsert that takes the row lock:
a reader that sees the new token also sees the new rows, two writers never lose each other's
bump, and a value cached from the old rows can only sit under the old token, which nobody asks
for again.

A person's version is two tokens: their own (the service's per-person writes, erasures scoped to
them) and their tenant's (tenant-wide erasures and bulk loads, which would otherwise touch one row
per person). A missing row reads as "0": rows are only ever created or replaced by writes, so a
missing row means no write since the table existed, and the first write creates it.

The bump calls sit where every write goes through: ``memory.services`` (add via mem0, correct),
``memory.bulk`` (both COPY writers, which the fast add path and imports use) and the erasure
registry (``erasure.erase`` and ``erasure.erase_vectors_batch``: every erasure, whoever starts
it). A new write path that uses the service or the registry is covered without doing anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection

TABLE = "memportal_data_version"


def _bump(keys: list[str]) -> None:
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (key, token) SELECT k, gen_random_uuid() FROM unnest(%s::text[]) AS k "
            "ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token",
            [sorted(set(keys))],  # sorted: concurrent multi-row bumps lock rows in one order
        )


def person_key(subject_id: str) -> str:
    return f"p:{subject_id}"


def tenant_key(tenant_id: int) -> str:
    return f"t:{tenant_id}"


def person_data_version_bump(*, subject_ids: Iterable[str]) -> None:
    """A new version for each person (call inside the write's transaction)."""
    _bump([person_key(s) for s in subject_ids])


def tenant_data_version_bump(*, tenant_ids: Iterable[int]) -> None:
    """A new version for everyone in these tenants (tenant-wide erasures, bulk loads)."""
    _bump([tenant_key(t) for t in tenant_ids])


def person_data_version(*, subject_id: str, tenant_id: int) -> str:
    """The person's current version (one query)."""
    keys = [person_key(subject_id), tenant_key(tenant_id)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, token FROM {TABLE} WHERE key = ANY(%s)", [keys])
        found = {k: str(t) for k, t in cursor.fetchall()}
    return f"{found.get(keys[0], '0')}.{found.get(keys[1], '0')}"


_MEMBERSHIPS_SQL: str | None = None


def _memberships_sql() -> str:
    """Every column of the membership and its tenant (from the models, so new fields come along),
    and the person's data version, for one account, oldest membership first."""
    from .models import Membership, Tenant

    m = ", ".join(f"m.{f.column}" for f in Membership._meta.concrete_fields)
    t = ", ".join(f"t.{f.column}" for f in Tenant._meta.concrete_fields)
    return (
        f"SELECT {m}, {t}, concat("
        f"coalesce((SELECT v.token::text FROM {TABLE} v WHERE v.key = 'p:' || m.subject_id), '0'), '.', "
        f"coalesce((SELECT v.token::text FROM {TABLE} v WHERE v.key = 't:' || m.tenant_id::text), '0')) "
        f"FROM {Membership._meta.db_table} m JOIN {Tenant._meta.db_table} t ON t.id = m.tenant_id "
        "WHERE m.user_id = %s ORDER BY m.created_at, m.id"
    )


def memberships_with_data_version(*, user_id: int) -> list[Any]:
    """``Membership.objects.filter(user_id=...).select_related("tenant").order_by("created_at", "pk")``
    with ``data_version`` set on each, in one statement built once per process.

    The same rows and model instances the ORM would give; written out because this runs on every
    signed-in request and the ORM's query building was ~0.7 ms of the page's ~3 ms of Python
    (docs/benchmarks.md, "Where the time goes")."""
    global _MEMBERSHIPS_SQL
    from .models import Membership, Tenant

    if _MEMBERSHIPS_SQL is None:
        _MEMBERSHIPS_SQL = _memberships_sql()
    m_names = [f.attname for f in Membership._meta.concrete_fields]
    t_names = [f.attname for f in Tenant._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(_MEMBERSHIPS_SQL, [user_id])
        rows = cursor.fetchall()
    found = []
    cache_tenant = Membership._meta.get_field("tenant").set_cached_value
    db = connection.alias
    for row in rows:
        member = Membership.from_db(db, m_names, row[: len(m_names)])
        cache_tenant(member, Tenant.from_db(db, t_names, row[len(m_names): len(m_names) + len(t_names)]))
        member.data_version = row[-1]
        found.append(member)
    return found


def person_data_versions_delete(*, subject_ids: Iterable[str], cursor) -> int:
    """Forget the versions of people whose membership ends (erasure.DataVersions)."""
    cursor.execute(f"DELETE FROM {TABLE} WHERE key = ANY(%s)", [[person_key(s) for s in subject_ids]])
    return cursor.rowcount


def person_data_versions_count(*, subject_ids: Iterable[str], cursor) -> int:
    cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE key = ANY(%s)", [[person_key(s) for s in subject_ids]])
    return cursor.fetchone()[0]
