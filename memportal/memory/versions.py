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

from django.db import connection
from django.db.models.expressions import RawSQL

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


def data_version_sql() -> RawSQL:
    """``person_data_version`` as an annotation for a Membership query: the page reads it with the
    memberships it loads anyway, not in a query of its own."""
    return RawSQL(  # noqa: S611 - constant SQL, no input
        f"concat(coalesce((SELECT v.token::text FROM {TABLE} v WHERE v.key = 'p:' || memory_membership.subject_id),"
        f" '0'), '.', coalesce((SELECT v.token::text FROM {TABLE} v"
        " WHERE v.key = 't:' || memory_membership.tenant_id::text), '0'))",
        [],
    )


def person_data_versions_delete(*, subject_ids: Iterable[str], cursor) -> int:
    """Forget the versions of people whose membership ends (erasure.DataVersions)."""
    cursor.execute(f"DELETE FROM {TABLE} WHERE key = ANY(%s)", [[person_key(s) for s in subject_ids]])
    return cursor.rowcount


def person_data_versions_count(*, subject_ids: Iterable[str], cursor) -> int:
    cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE key = ANY(%s)", [[person_key(s) for s in subject_ids]])
    return cursor.fetchone()[0]
