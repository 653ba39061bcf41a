"""The erasure registry: every place that can hold a person's memory text or identifiers.

Each ``Store`` below can ``erase`` what a ``Scope`` names (inside the caller's transaction) and
``count`` what is left of it. Counting is independent of erasing: it runs after the erasure has
committed, on a fresh database connection (not the one that just deleted), with its own query
per store, and looks at the export folder on disk. A receipt stores one line per store: what was
erased there and what the recount found; it is verified only when every line's recount is 0.

A new feature that keeps a copy of memory text or of a person's identifiers adds a store here;
``tests/erasure/test_registry.py`` scans every text column of every table after an erasure, so
a store that is missing makes the suite fail.

What erasure cannot reach (PostgreSQL's WAL, backups, dead tuples until vacuum) is described in
docs/security.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from memportal.crypto import keyed_hash
from memportal.memory.records import ENTITY_TABLE, TABLE
from memportal.memory.versions import (
    person_data_version_bump,
    person_data_versions_count,
    person_data_versions_delete,
    tenant_data_version_bump,
)

log = logging.getLogger(__name__)


# --- scope ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """What one erasure covers. Built by the memory service from a membership or a tenant, never from input.

    ``subject_ids`` None means the whole tenant. ``agent_id``/``run_id``/``memory_id`` narrow a
    person's erasure. ``memory_ids``: exactly these memories (auto-delete and delete-by-date select
    them by date first, so the recount checks the same ids); ``window`` (start or None, end): the
    raw messages stored in that time, erased with them. ``ends_membership``: the people leave for
    good (account deletion, offboarding), so their identifiers go too, not only their memories.
    """

    tenant_id: int
    app_id: str
    subject_ids: tuple[str, ...] | None
    agent_id: str | None = None
    run_id: str | None = None
    memory_id: str | None = None
    memory_ids: tuple[str, ...] | None = None
    window: tuple[datetime | None, datetime] | None = None
    ends_membership: bool = False
    user_ids: tuple[int, ...] = ()
    emails: tuple[str, ...] = ()
    started_at: datetime = field(default_factory=timezone.now)

    @property
    def narrowed(self) -> bool:
        return bool(self.agent_id or self.run_id or self.memory_id or self.memory_ids is not None)

    def subjects(self, cursor: Any) -> list[str]:
        """The subject ids in scope (for the whole tenant: every membership it ever had)."""
        if self.subject_ids is not None:
            return list(self.subject_ids)
        cursor.execute("SELECT subject_id FROM memory_membership WHERE tenant_id = %s", [self.tenant_id])
        return [r[0] for r in cursor.fetchall()]


def _vector_where(scope: Scope, subjects: list[str]) -> tuple[str, list[Any]]:
    if scope.subject_ids is None:
        # The tenant's memories, and any memory of its people that lacks or differs in app_id.
        return "(payload->>'app_id' = %s OR payload->>'user_id' = ANY(%s))", [scope.app_id, subjects]
    where = ["payload->>'app_id' = %s"]
    params: list[Any] = [scope.app_id]
    if len(subjects) == 1:
        where.append("payload->>'user_id' = %s")
        params.append(subjects[0])
    else:
        where.append("payload->>'user_id' = ANY(%s)")
        params.append(subjects)
    for key, value in (("agent_id", scope.agent_id), ("run_id", scope.run_id)):
        if value:
            where.append(f"payload->>'{key}' = %s")
            params.append(value)
    if scope.memory_id:
        where.append("id = %s")
        params.append(scope.memory_id)
    if scope.memory_ids is not None:
        where.append("id = ANY(%s::uuid[])")
        params.append(list(scope.memory_ids))
    return " AND ".join(where), params


def _history_where(scope: Scope, subjects: list[str], memory_ids: list[str]) -> tuple[str, list[Any]]:
    if scope.subject_ids is None:
        where, params = "(app_id = %s OR subject_id = ANY(%s))", [scope.app_id, subjects]
    else:
        parts = ["app_id = %s", "subject_id = ANY(%s)"]
        params = [scope.app_id, subjects]
        for key, value in (("agent_id", scope.agent_id), ("run_id", scope.run_id), ("memory_id", scope.memory_id)):
            if value:
                parts.append(f"{key} = %s")
                params.append(value)
        if scope.memory_ids is not None:
            parts.append("memory_id = ANY(%s::uuid[])")
            params.append(list(scope.memory_ids))
        where = "(" + " AND ".join(parts) + ")"
    if memory_ids:  # rows of the erased memories whatever scope they were written with
        where += " OR memory_id = ANY(%s::uuid[])"
        params.append(memory_ids)
    return where, params


# --- stores -----------------------------------------------------------------------------------------
@dataclass
class Run:
    """What an erasure has done so far (the vector store's deleted ids feed the history store)."""

    scope: Scope
    memory_ids: list[str] = field(default_factory=list)


class Store(Protocol):
    name: str
    label: str

    def applies(self, scope: Scope) -> bool: ...
    def erase(self, run: Run, cursor: Any) -> int: ...
    def count(self, scope: Scope, cursor: Any) -> int: ...


class _SqlStore:
    name = ""
    label = ""

    def applies(self, scope: Scope) -> bool:
        return True


class Vectors(_SqlStore):
    name, label = "vectors", "Memories (mem0's vector rows)"

    def erase(self, run: Run, cursor: Any, *, limit: int | None = None) -> int:
        where, params = _vector_where(run.scope, run.scope.subjects(cursor))
        if limit is not None:
            where, params = f"id IN (SELECT id FROM {TABLE} WHERE {where} LIMIT %s)", [*params, limit]
        cursor.execute(f"DELETE FROM {TABLE} WHERE {where} RETURNING id", params)
        ids = [str(r[0]) for r in cursor.fetchall()]
        run.memory_ids += ids
        return len(ids)

    def count(self, scope: Scope, cursor: Any) -> int:
        where, params = _vector_where(scope, scope.subjects(cursor))
        cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE {where}", params)
        return cursor.fetchone()[0]


class History(_SqlStore):
    name, label = "history", "Change history (old and new texts)"

    def erase(self, run: Run, cursor: Any) -> int:
        where, params = _history_where(run.scope, run.scope.subjects(cursor), run.memory_ids)
        cursor.execute(f"DELETE FROM memory_memoryevent WHERE {where}", params)
        return cursor.rowcount

    def count(self, scope: Scope, cursor: Any) -> int:
        where, params = _history_where(scope, scope.subjects(cursor), [scope.memory_id] if scope.memory_id else [])
        cursor.execute(f"SELECT count(*) FROM memory_memoryevent WHERE {where}", params)
        return cursor.fetchone()[0]


class Feedback(_SqlStore):
    """Apps' feedback on memories (rating and a free-text reason), scoped like history rows."""

    name, label = "feedback", "Apps' feedback on memories"

    def _where(self, scope: Scope, cursor: Any, memory_ids: list[str]) -> tuple[str, list[Any]]:
        if scope.subject_ids is None:
            return "tenant_id = %s", [scope.tenant_id]
        parts, params = ["tenant_id = %s", "subject_id = ANY(%s)"], [scope.tenant_id, list(scope.subject_ids)]
        for key, value in (("agent_id", scope.agent_id), ("run_id", scope.run_id), ("memory_id", scope.memory_id)):
            if value:
                parts.append(f"{key} = %s")
                params.append(value)
        if scope.memory_ids is not None:
            parts.append("memory_id = ANY(%s::uuid[])")
            params.append(list(scope.memory_ids))
        where = "(" + " AND ".join(parts) + ")"
        if memory_ids:
            where += " OR memory_id = ANY(%s::uuid[])"
            params.append(memory_ids)
        return where, params

    table = "memory_memoryfeedback"

    def erase(self, run: Run, cursor: Any) -> int:
        where, params = self._where(run.scope, cursor, run.memory_ids)
        cursor.execute(f"DELETE FROM {self.table} WHERE {where}", params)
        return cursor.rowcount

    def count(self, scope: Scope, cursor: Any) -> int:
        where, params = self._where(scope, cursor, [])
        cursor.execute(f"SELECT count(*) FROM {self.table} WHERE {where}", params)
        return cursor.fetchone()[0]


class MemoryReads(Feedback):
    """The per-memory read ledger (``MemoryRead``): memory ids, the person's subject id, agent and
    session per row, and who read (a key prefix or a staff email). Scoped like feedback rows."""

    name, label = "memory_reads", "Reads of each memory (the ledger)"
    table = "memory_memoryread"


class Messages(_SqlStore):
    """mem0's raw messages (kept per agent/session scope string when an LLM extracts facts)."""

    name, label = "messages", "Raw conversation messages"

    def applies(self, scope: Scope) -> bool:
        # Messages are not tied to memories: not for one memory; for chosen memories only by time.
        return scope.memory_id is None and (scope.memory_ids is None or scope.window is not None)

    def _where(self, scope: Scope, cursor: Any) -> tuple[str, list[Any]]:
        where, params = "subject_id = ANY(%s)", [scope.subjects(cursor)]
        if scope.window is not None:
            start, end = scope.window
            where += " AND created_at < %s"
            params.append(end)
            if start is not None:
                where += " AND created_at >= %s"
                params.append(start)
        # mem0's scope string is "user_id=..&agent_id=..&run_id=.." (parts sorted, '&'-joined).
        for key, value in (("agent_id", scope.agent_id), ("run_id", scope.run_id)):
            if value:
                where += " AND %s = ANY(string_to_array(session_scope, '&'))"
                params.append(f"{key}={value}")
        return where, params

    def erase(self, run: Run, cursor: Any) -> int:
        where, params = self._where(run.scope, cursor)
        cursor.execute(f"DELETE FROM memory_memorymessage WHERE {where}", params)
        return cursor.rowcount

    def count(self, scope: Scope, cursor: Any) -> int:
        where, params = self._where(scope, cursor)
        cursor.execute(f"SELECT count(*) FROM memory_memorymessage WHERE {where}", params)
        return cursor.fetchone()[0]


class Entities(_SqlStore):
    """mem0's entity side table (created by mem0 only when spaCy is installed) holds extracted text."""

    name, label = "entities", "mem0's extracted entities"

    def applies(self, scope: Scope) -> bool:
        return not scope.narrowed

    @staticmethod
    def _exists(cursor: Any) -> bool:
        cursor.execute("SELECT to_regclass(%s)", [ENTITY_TABLE])
        return cursor.fetchone()[0] is not None

    def erase(self, run: Run, cursor: Any) -> int:
        if not self._exists(cursor):
            return 0
        cursor.execute(f"DELETE FROM {ENTITY_TABLE} WHERE payload->>'user_id' = ANY(%s)", [run.scope.subjects(cursor)])
        return cursor.rowcount

    def count(self, scope: Scope, cursor: Any) -> int:
        if not self._exists(cursor):
            return 0
        cursor.execute(f"SELECT count(*) FROM {ENTITY_TABLE} WHERE payload->>'user_id' = ANY(%s)",
                       [scope.subjects(cursor)])
        return cursor.fetchone()[0]


def export_dir() -> Path:
    return Path(settings.MEMPORTAL.get("EXPORT_DIR") or (settings.DATA_DIR / "exports"))


class ExportFiles(_SqlStore):
    """Staff export files of the tenant: finished ones are deleted, running ones cancelled.

    Files do not record whose rows they hold, so any erasure in a tenant removes all of the
    tenant's files (staff can export again). A running export is marked erased here, under the
    job row's lock; the export checks that state under the same lock before publishing its file
    (memportal.staff.services), so it can never publish rows read before this erasure.
    """

    name, label = "export_files", "Staff export files"

    def erase(self, run: Run, cursor: Any) -> int:
        from memportal.staff.services import export_files_erase_for_erasure  # staff owns the files

        return export_files_erase_for_erasure(tenant_id=run.scope.tenant_id)

    def count(self, scope: Scope, cursor: Any) -> int:
        """Files of the tenant that still hold a subject (or memory) in scope, and exports still
        running that started before the erasure (they may hold rows read before it)."""
        folder = export_dir()
        needles = [scope.memory_id] if scope.memory_id else list(scope.memory_ids) if scope.memory_ids else (
            None if scope.subject_ids is None else list(scope.subject_ids)
        )
        found = 0
        if folder.exists():
            for path in folder.glob(f"{scope.app_id}.*"):
                if needles is None or _file_contains(path, needles):
                    found += 1
        cursor.execute(
            "SELECT count(*) FROM staff_exportjob WHERE tenant_id = %s AND state = 'running' AND started_at < %s",
            [scope.tenant_id, scope.started_at],
        )
        return found + cursor.fetchone()[0]


def _file_contains(path: Path, needles: list[str]) -> bool:
    wanted = [n.encode() for n in needles]
    keep = max(len(n) for n in wanted)
    tail = b""
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                block = tail + chunk
                if any(n in block for n in wanted):
                    return True
                tail = block[-keep:]
    except FileNotFoundError:
        return False
    return False


class StaffSearchText(_SqlStore):
    """Staff audit filters may only keep a keyed hash of typed search text, never the text.

    New records are written that way (memportal.staff.services); this store catches any record
    or export job that still carries text (written before that, or by a future bug).
    """

    name, label = "staff_search_text", "Staff search text in access records and export jobs"

    def erase(self, run: Run, cursor: Any) -> int:
        erased = 0
        for table in ("staff_accessrecord", "staff_exportjob"):
            cursor.execute(
                f"SELECT id, filters->>'search', filters->>'text' FROM {table} "
                "WHERE tenant_id = %s AND (filters ? 'search' OR filters ? 'text')",
                [run.scope.tenant_id],
            )
            for pk, search, text in cursor.fetchall():
                typed = search or text or ""
                kept = {"search_hash": search_hash(typed), "search_length": len(typed)} if typed else {}
                cursor.execute(
                    f"UPDATE {table} SET filters = (filters - 'search' - 'text') || %s::jsonb WHERE id = %s",
                    [json.dumps(kept), pk],
                )
                erased += 1
        return erased

    def count(self, scope: Scope, cursor: Any) -> int:
        total = 0
        for table in ("staff_accessrecord", "staff_exportjob"):
            cursor.execute(
                f"SELECT count(*) FROM {table} WHERE tenant_id = %s AND "
                "((filters ? 'search' AND filters->>'search' <> '') OR (filters ? 'text' AND filters->>'text' <> ''))",
                [scope.tenant_id],
            )
            total += cursor.fetchone()[0]
        return total




def search_hash(text: str) -> str:
    return keyed_hash(purpose="staff-search", value=text)


def external_id_hash(*, app_id: str, external_id: str) -> str:
    return keyed_hash(purpose=f"external-id:{app_id}", value=external_id)


class ApiExportRequests(_SqlStore):
    """An app's export requests keep its filter (the app's own ids for people, often emails) until
    fetched; a request naming a person who leaves goes with them.

    Erase runs before ExternalIds (it needs the ids in clear); the count matches each stored id's
    keyed hash against the hashes ExternalIds left, so it needs nothing the erasure removed.
    """

    name, label = "api_export_requests", "Apps' export requests naming the person"

    def applies(self, scope: Scope) -> bool:
        return scope.ends_membership

    def _requests(self, scope: Scope, cursor: Any) -> list[tuple[Any, set[str]]]:
        cursor.execute("SELECT id, filters::text FROM agents_memoryexportrequest WHERE tenant_id = %s",
                       [scope.tenant_id])
        return [(pk, _user_ids_in(text)) for pk, text in cursor.fetchall()]

    def _hashes(self, scope: Scope, cursor: Any) -> set[str]:
        where, params = "tenant_id = %s", [scope.tenant_id]
        if scope.subject_ids is not None:
            where, params = where + " AND subject_id = ANY(%s)", [*params, list(scope.subject_ids)]
        cursor.execute(f"SELECT external_id, external_id_hash FROM memory_membership WHERE {where}", params)
        found = set()
        for external, hashed in cursor.fetchall():
            if external:
                found.add(external_id_hash(app_id=scope.app_id, external_id=external))
            if hashed:
                found.add(hashed)
        return found

    def _matching(self, scope: Scope, cursor: Any) -> list[Any]:
        hashes = self._hashes(scope, cursor)
        return [pk for pk, ids in self._requests(scope, cursor)
                if any(external_id_hash(app_id=scope.app_id, external_id=i) in hashes for i in ids)]

    def erase(self, run: Run, cursor: Any) -> int:
        doomed = self._matching(run.scope, cursor)
        if doomed:
            cursor.execute("DELETE FROM agents_memoryexportrequest WHERE id = ANY(%s)", [doomed])
        return len(doomed)

    def count(self, scope: Scope, cursor: Any) -> int:
        return len(self._matching(scope, cursor))


def _user_ids_in(filters_json: str) -> set[str]:
    """Every string under a "user_id" key, at any depth, of a stored filter."""
    found: set[str] = set()
    stack: list[tuple[Any, bool]] = [(json.loads(filters_json), False)]
    while stack:
        node, under_user = stack.pop()
        if isinstance(node, dict):
            stack += [(value, under_user or key == "user_id") for key, value in node.items()]
        elif isinstance(node, list):
            stack += [(item, under_user) for item in node]
        elif under_user and isinstance(node, str):
            found.add(node)
    return found


class ExternalIds(_SqlStore):
    """The app's own id for the person (often an email) is replaced by a keyed hash when they leave.

    The hash lets the API recognise the app's next use of the same id as this erased person
    (it answers 410) without keeping the id itself.
    """

    name, label = "external_ids", "The app's own id for the person"

    def applies(self, scope: Scope) -> bool:
        return scope.ends_membership

    def _where(self, scope: Scope) -> tuple[str, list[Any]]:
        if scope.subject_ids is None:
            return "tenant_id = %s AND external_id IS NOT NULL", [scope.tenant_id]
        return "tenant_id = %s AND subject_id = ANY(%s) AND external_id IS NOT NULL", [
            scope.tenant_id, list(scope.subject_ids)]

    def erase(self, run: Run, cursor: Any) -> int:
        where, params = self._where(run.scope)
        cursor.execute(f"SELECT id, external_id FROM memory_membership WHERE {where}", params)
        rows = cursor.fetchall()
        for pk, external in rows:
            cursor.execute(
                "UPDATE memory_membership SET external_id = NULL, external_id_hash = %s WHERE id = %s",
                [external_id_hash(app_id=run.scope.app_id, external_id=external), pk],
            )
        return len(rows)

    def count(self, scope: Scope, cursor: Any) -> int:
        where, params = self._where(scope)
        cursor.execute(f"SELECT count(*) FROM memory_membership WHERE {where}", params)
        return cursor.fetchone()[0]


class PersonLinks(_SqlStore):
    """Portal links and key-read tallies name the person's subject; they go with the membership."""

    name, label = "person_links", "Portal links and app read tallies"

    def applies(self, scope: Scope) -> bool:
        return scope.ends_membership

    def _parts(self, scope: Scope, cursor: Any) -> list[tuple[str, list[Any]]]:
        subjects = scope.subjects(cursor)
        return [
            ("agents_portaltoken WHERE membership_id IN (SELECT id FROM memory_membership WHERE tenant_id = %s "
             "AND subject_id = ANY(%s))", [scope.tenant_id, subjects]),
            ("agents_keyread WHERE tenant_id = %s AND subject_id = ANY(%s)", [scope.tenant_id, subjects]),
        ]

    def erase(self, run: Run, cursor: Any) -> int:
        erased = 0
        for sql, params in self._parts(run.scope, cursor):
            cursor.execute(f"DELETE FROM {sql}", params)
            erased += cursor.rowcount
        return erased

    def count(self, scope: Scope, cursor: Any) -> int:
        total = 0
        for sql, params in self._parts(scope, cursor):
            cursor.execute(f"SELECT count(*) FROM {sql}", params)
            total += cursor.fetchone()[0]
        return total


class Sessions(_SqlStore):
    """Every open browser session of a deleted account (they may hold its email, e.g. allauth's state)."""

    name, label = "sessions", "Open sessions of the deleted account"

    def applies(self, scope: Scope) -> bool:
        return bool(scope.user_ids)

    def _keys(self, scope: Scope, cursor: Any) -> list[str]:
        from django.contrib.sessions.backends.db import SessionStore

        wanted = {str(pk) for pk in scope.user_ids}
        cursor.execute("SELECT session_key, session_data FROM django_session")
        keys = []
        store = SessionStore()
        for key, data in cursor.fetchall():
            decoded = store.decode(data)
            if str(decoded.get("_auth_user_id", "")) in wanted or any(
                e and e in str(decoded) for e in scope.emails
            ):
                keys.append(key)
        return keys

    def erase(self, run: Run, cursor: Any) -> int:
        keys = self._keys(run.scope, cursor)
        if keys:
            cursor.execute("DELETE FROM django_session WHERE session_key = ANY(%s)", [keys])
        return len(keys)

    def count(self, scope: Scope, cursor: Any) -> int:
        return len(self._keys(scope, cursor))


class Caches(_SqlStore):
    """allauth's rate-limit entries keyed by the account (by user pk, or by a sha256 of its email)."""

    name, label = "caches", "Cache entries about the account"

    def applies(self, scope: Scope) -> bool:
        return bool(scope.user_ids or scope.emails)

    def _where(self, scope: Scope) -> tuple[str, list[Any]]:
        patterns = [f"%:user:{pk}" for pk in scope.user_ids]
        patterns += [
            f"%{hashlib.sha256(variant.encode()).hexdigest()}%"
            for email in scope.emails for variant in {email, email.lower()}
        ]
        return "cache_key LIKE ANY(%s)", [patterns]

    def erase(self, run: Run, cursor: Any) -> int:
        where, params = self._where(run.scope)
        cursor.execute(f"DELETE FROM memportal_cache WHERE {where}", params)
        return cursor.rowcount

    def count(self, scope: Scope, cursor: Any) -> int:
        where, params = self._where(scope)
        cursor.execute(f"SELECT count(*) FROM memportal_cache WHERE {where}", params)
        return cursor.fetchone()[0]


class DataVersions(_SqlStore):
    """The people's data-version rows (memory/versions.py), once their membership ends: a subject id
    and a random token each. While the membership lasts, an erasure gives them a new token instead."""

    name, label = "data_versions", "Page-cache versions of the people"

    def applies(self, scope: Scope) -> bool:
        return scope.ends_membership and not scope.narrowed

    def erase(self, run: Run, cursor: Any) -> int:
        return person_data_versions_delete(subject_ids=run.scope.subjects(cursor), cursor=cursor)

    def count(self, scope: Scope, cursor: Any) -> int:
        return person_data_versions_count(subject_ids=scope.subjects(cursor), cursor=cursor)


class WebhookDeliveries(_SqlStore):
    """Webhook deliveries about a person (memportal.agents.webhooks): ids only, never memory text,
    but our subject id and, until the delivery ends, the app's id for the person. When the person
    leaves, both go and deliveries not yet sent are cancelled (the app hears of the erasure itself
    in its own notice, which keeps no subject id and drops the app's id once delivered)."""

    name, label = "webhook_deliveries", "Webhook deliveries about the person"

    def applies(self, scope: Scope) -> bool:
        return scope.ends_membership

    def _where(self, scope: Scope) -> tuple[str, list[Any]]:
        if scope.subject_ids is None:
            return "tenant_id = %s AND subject_id IS NOT NULL", [scope.tenant_id]
        return "tenant_id = %s AND subject_id = ANY(%s)", [scope.tenant_id, list(scope.subject_ids)]

    def erase(self, run: Run, cursor: Any) -> int:
        where, params = self._where(run.scope)
        cursor.execute(
            "UPDATE agents_webhookdelivery SET subject_id = NULL, payload = payload - 'user_id', "
            "state = CASE WHEN state = 'pending' THEN 'cancelled' ELSE state END, "
            f"finished_at = COALESCE(finished_at, now()) WHERE {where}", params)
        return cursor.rowcount

    def count(self, scope: Scope, cursor: Any) -> int:
        where, params = self._where(scope)
        cursor.execute(f"SELECT count(*) FROM agents_webhookdelivery WHERE {where}", params)
        return cursor.fetchone()[0]


#: Every store, in erase order (vectors first: their ids feed the history store).
REGISTRY: tuple[Any, ...] = (
    Vectors(), History(), Feedback(), MemoryReads(), Messages(), Entities(), ExportFiles(), StaffSearchText(),
    ApiExportRequests(), ExternalIds(),
    PersonLinks(), Sessions(), Caches(), WebhookDeliveries(), DataVersions(),
)
VECTORS = REGISTRY[0]


# --- erase and verify -------------------------------------------------------------------------------
def erase(*, scope: Scope, skip: Iterable[str] = ()) -> dict[str, int]:
    """Erase the scope from every store, in the caller's transaction. Returns store -> rows erased."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("erase() must run inside the caller's transaction")
    run = Run(scope)
    erased: dict[str, int] = {}
    with connection.cursor() as cursor:
        for store in REGISTRY:
            if store.name in skip or not store.applies(scope):
                continue
            erased[store.name] = store.erase(run, cursor)
    _data_version_bump(scope)
    return erased


def _data_version_bump(scope: Scope) -> None:
    """Every erasure, whoever runs it, makes cached views of the people in scope unreachable, in
    the erasing transaction (memory/versions.py; the views are kept in no store: web-process memory
    only). The tenant's token covers everyone in it; people who leave lose their own row instead
    (DataVersions), and an ended membership's page is never served again."""
    if scope.subject_ids is None:
        tenant_data_version_bump(tenant_ids=[scope.tenant_id])
    elif not DataVersions().applies(scope):
        person_data_version_bump(subject_ids=scope.subject_ids)


def account_traces_erase(*, user_id: int, email: str) -> dict[str, int]:
    """The stores keyed by the account itself (sessions, caches), for an account being deleted even
    when no membership is left to erase (its tenant was offboarded): nothing of it may outlive it."""
    scope = Scope(tenant_id=0, app_id="", subject_ids=(), user_ids=(user_id,), emails=(email,) if email else ())
    run = Run(scope)
    with connection.cursor() as cursor:
        return {store.name: store.erase(run, cursor) for store in (Sessions(), Caches())}


def erase_vectors_batch(*, scope: Scope, limit: int) -> tuple[int, int]:
    """One resumable batch of a tenant's erasure: up to ``limit`` memories and their history."""
    run = Run(scope)
    with connection.cursor() as cursor:
        memories = VECTORS.erase(run, cursor, limit=limit)
        history = History().erase(run, cursor) if run.memory_ids else 0
    if memories:
        _data_version_bump(scope)
    return memories, history


def count(*, scope: Scope, fresh: bool = True) -> dict[str, int]:
    """Count what is left of the scope in every store that applies.

    ``fresh`` (the default, for receipts): on a new database connection, so nothing of the
    erasing transaction (its snapshot, its uncommitted rows) can make the count agree with it.
    """
    conn = connections.create_connection("default") if fresh else connection
    try:
        with conn.cursor() as cursor:
            return {store.name: store.count(scope, cursor) for store in REGISTRY if store.applies(scope)}
    finally:
        if fresh:
            conn.close()


def receipt_lines_write(*, receipt: Any, erased: dict[str, int]) -> None:
    from memportal.memory.models import ErasureReceiptLine

    labels = {s.name: s.label for s in REGISTRY}
    ErasureReceiptLine.objects.bulk_create(
        ErasureReceiptLine(receipt=receipt, store=name, label=labels[name], erased=n) for name, n in erased.items()
    )


def receipt_verify(*, receipt_id: Any, scope: Scope) -> dict[str, int]:
    """Recount every store for a committed receipt and record the counts on its lines."""
    from memportal.memory.models import ErasureReceipt, ErasureReceiptLine

    remaining = count(scope=scope)
    labels = {s.name: s.label for s in REGISTRY}
    with transaction.atomic():
        receipt = ErasureReceipt.objects.select_for_update().get(pk=receipt_id)
        for name, left in remaining.items():
            ErasureReceiptLine.objects.update_or_create(
                receipt=receipt, store=name, defaults={"remaining": left, "label": labels[name]}
            )
        receipt.remaining_after = sum(remaining.values())
        receipt.verified_at = timezone.now()
        receipt.save(update_fields=["remaining_after", "verified_at"])
    if receipt.remaining_after:
        log.error("erasure receipt %s: recount found %s rows left", receipt_id, remaining)
    return remaining


def verify_after_commit(*, receipt_id: Any, scope: Scope) -> None:
    """Schedule ``receipt_verify`` for when the erasing transaction has committed."""
    transaction.on_commit(_verifier(receipt_id, scope))


def _verifier(receipt_id: Any, scope: Scope) -> Callable[[], None]:
    def run() -> None:
        receipt_verify(receipt_id=receipt_id, scope=scope)

    return run
