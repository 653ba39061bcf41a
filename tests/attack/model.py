"""The attack suite's model of the world: who exists, who owns which text, what was erased.

The state machine (tests/attack/test_state_machine.py) acts through the real routes and keeps
this model up to date only for what an actor was *entitled* to do and the site said it did;
the invariants then compare responses, files and the database against it. Everything here is
deterministic (no randomness outside what Hypothesis draws), so a failing run replays exactly.

Texts are unique and tagged with their owner: ``"<owner label> secret tok00012z"``. The token
(``tok`` + 5 digits + ``z``) is what a response is searched for; when the request itself
carried the token (a search for it), the full text is searched for instead, so an echoed query
is never mistaken for a leak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection

TENANTS = ("concierge_app", "sports_brand_portal")
SHORT = {"concierge_app": "ca", "sports_brand_portal": "sb"}
AGENTS = ("travel_planner", "chef_recommender", "coach")  # the assistant offers the first two
RUNS = ("r1", "r2", "chat-1")
APP_IDS_PER_TENANT = 3
TOKEN_RE = re.compile(r"tok\d{5}z")
KEEP_TABLES = {"django_migrations", "django_content_type", "auth_permission", "django_site"}


class _Short:
    """Hypothesis prints drawn objects in a failing program: by label, not field by field."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


# --- actors -----------------------------------------------------------------------------------------
@dataclass(eq=False, repr=False)
class Person(_Short):
    """Someone memories are about: a browser sign-up ("signup") or a person an app named ("app")."""

    label: str
    tenant: str
    kind: str  # "signup" | "app" | "staff" (a staff member's own membership)
    email: str | None = None
    username: str | None = None
    external_id: str | None = None
    user_pk: int | None = None
    member_pk: int | None = None
    subject_id: str | None = None
    state: str = "absent"  # absent -> active -> ended (account deleted, or tenant offboarded)
    paused: bool = False  # "stop this app remembering me" (= "Pause memory"): the app's writes are 423
    reads_stopped: bool = False  # "stop this app reading my memories": the app's keys never get their text
    ids_erased: bool = False  # email (account deleted) / the app's id (membership ended) erased
    account_deleted: bool = False
    deleted_without_membership: bool = False  # deleted the account after the tenant was offboarded
    lookers: set[str] = field(default_factory=set)  # who-looked labels the page must show

    def __repr__(self) -> str:
        return self.label

    @property
    def active(self) -> bool:
        return self.state == "active"

    def identifiers(self) -> list[str]:
        return [i for i in (self.email, self.username, self.external_id) if i]


@dataclass(eq=False, repr=False)
class Operator(_Short):
    """Tenant staff (``tenant`` set) or a superuser (``tenant`` None)."""

    label: str
    tenant: str | None
    user_pk: int
    email: str
    person: Person | None = None  # staff are people too: their staff membership has "your data"

    def __repr__(self) -> str:
        return self.label

    @property
    def superuser(self) -> bool:
        return self.tenant is None


@dataclass(eq=False, repr=False)
class Key(_Short):
    """An app key as the model knows it. ``pk`` None: a key that does not exist (a bad key)."""

    label: str
    tenant: str
    perms: frozenset[str]
    creator: str  # staff | superuser | cli | demoted | web-staff | web-superuser | bogus
    raw: str
    prefix: str = ""
    pk: int | None = None
    active: bool = True

    def __repr__(self) -> str:
        return self.label

    @property
    def looker_label(self) -> str:
        return f"mpk_{self.prefix}_"


@dataclass(eq=False, repr=False)
class Mem(_Short):
    id: str
    owner: Person
    text: str
    versions: list[str]
    agent: str | None
    run: str | None
    alive: bool = True

    def __repr__(self) -> str:
        return f"mem({self.owner.label}:{TOKEN_RE.search(self.text).group(0)})"


@dataclass(eq=False, repr=False)
class Text(_Short):
    full: str
    token: str
    owner: Person | None  # None: written for nobody (junk target): it must never be stored
    erased: bool = False


@dataclass(eq=False, repr=False)
class PortalLink(_Short):
    raw: str
    person: Person
    key: Key
    used: bool = False

    def __repr__(self) -> str:
        return f"link({self.person.label} via {self.key.label}{', used' if self.used else ''})"


@dataclass(eq=False, repr=False)
class ExportJob(_Short):
    id: str
    tenant: str
    requester: Operator
    state: str = "queued"  # queued | done | erased
    typed: str = ""  # what the requester typed as text filter: the job's page shows it back

    def __repr__(self) -> str:
        return f"job({self.tenant}, {self.requester.label}, {self.state})"


@dataclass(eq=False, repr=False)
class DeleteJob(_Short):
    """A tenant-wide API delete (one agent's or one run's memories of everyone the app named), queued."""

    id: str
    tenant: str
    agent: str | None
    run: str | None
    state: str = "queued"  # queued | done

    def __repr__(self) -> str:
        return f"delete-job({self.tenant}, agent={self.agent}, run={self.run}, {self.state})"


@dataclass(eq=False, repr=False)
class Receipt(_Short):
    id: str
    person: Person | None  # None: a tenant's offboarding receipt

    def __repr__(self) -> str:
        return f"receipt({self.person.label if self.person else 'tenant'})"


# --- database and folder ----------------------------------------------------------------------------
def app_tables() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
        return [r[0] for r in cur.fetchall() if r[0] not in KEEP_TABLES]


def database_reset(tables: list[str]) -> None:
    """Every row any earlier example (or test) left, in one statement.

    TRUNCATE, not DELETE: access records refuse deletion by design (AccessRecord.delete raises)."""
    with connection.cursor() as cur:
        cur.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")


def folder_reset(folder: Path) -> None:
    if folder.exists():
        for path in sorted(folder.rglob("*"), reverse=True):
            if path.is_file() or path.is_symlink():
                path.unlink()
            else:
                path.rmdir()


def _like(needle: str) -> str:
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def tables_holding(tables: list[str], needles: list[str]) -> dict[str, str]:
    """Tables with a row whose text form (every column: text, jsonb, arrays, vectors...) holds a
    needle, each with the start of one such row. One query per table; tests.scan.database_find
    then names the columns."""
    patterns = [_like(n) for n in needles if n]
    if not patterns:
        return {}
    found = {}
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f'SELECT left(r::text, 400) FROM "{table}" AS r WHERE r::text LIKE ANY(%s) LIMIT 1',
                        [patterns])
            row = cur.fetchone()
            if row:
                found[table] = row[0]
    return found


def memory_rows() -> dict[str, tuple[str, str, str, Any, Any]]:
    """id -> (text, user_id, app_id, agent_id, run_id) of every row in mem0's table."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id::text, payload->>'data', payload->>'user_id', payload->>'app_id', payload->>'agent_id', "
            "payload->>'run_id' FROM memportal_memories"
        )
        return {r[0]: tuple(r[1:]) for r in cur.fetchall()}


def sessions_holding(needles: list[str]) -> list[tuple[str, str]]:
    """(session key, needle) for every stored session whose decoded data holds a needle."""
    from django.contrib.sessions.backends.db import SessionStore

    store, found = SessionStore(), []
    with connection.cursor() as cur:
        cur.execute("SELECT session_key, session_data FROM django_session")
        for key, data in cur.fetchall():
            decoded = str(store.decode(data))
            found += [(key, n) for n in needles if n and n in decoded]
    return found
