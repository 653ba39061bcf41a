"""The generated attack suite: a Hypothesis state machine drives every route as every actor.

Actors: people in two tenants (signed in, or holding a portal link), staff of each tenant, a
superuser, app keys of every permission made by every kind of creator (staff, a superuser, the
command line, a superuser later demoted, the keys page), revoked, expired and bogus keys, and
anonymous callers. Actions: every web and API route that reads, writes, corrects, exports,
erases, pauses, offboards or mints links, with foreign ids, "*" and repeated parameters.

After every step:

(a) no response body or downloaded file holds text (or an identifier) of a person the actor is
    not entitled to, and none holds erased text or erased identifiers at all;
(b) after any erasure, every table (every column, as text) and the export folder hold none of
    the erased texts or identifiers;
(c) every read of a person's memories by someone else is logged for that person's "Who looked"
    (an access record or a key read made by that step), and the page itself lists every reader
    (checked in a rule and at the end of every example);

plus: the memory table holds exactly what the model expects (an unauthorised write or erasure
shows up here), a browser is never silently switched to another account, and no route answers
a 500. CI runs a bounded number of examples (``MEMPORTAL_ATTACK_EXAMPLES`` x
``MEMPORTAL_ATTACK_STEPS``); ``python -m bench.attack`` runs 10,000+ steps (docs/security.md).
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_plus, urlencode

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from memportal.agents.models import AppKey, KeyRead, TenantDeleteJob
from memportal.agents.services import appkey_create, appkey_revoke, tenant_delete_execute
from memportal.memory.models import Membership
from memportal.memory.services import memory_add
from memportal.memory.tenancy import membership_for_external
from memportal.offboarding.models import OffboardingJob
from memportal.offboarding.services import offboarding_run
from memportal.staff.models import AccessRecord
from memportal.staff.models import ExportJob as ExportJobRow
from memportal.staff.services import export_job_claim, export_job_process
from tests.attack.model import (
    AGENTS,
    APP_IDS_PER_TENANT,
    RUNS,
    SHORT,
    TENANTS,
    TOKEN_RE,
    DeleteJob,
    ExportJob,
    Key,
    Mem,
    Operator,
    Person,
    PortalLink,
    Receipt,
    Text,
    _like,
    app_tables,
    database_reset,
    folder_reset,
    memory_rows,
    sessions_holding,
    tables_holding,
)
from tests.factories import PASSWORD
from tests.factories import person as make_person
from tests.factories import tenant as make_tenant
from tests.scan import database_find, files_find

# --- configuration (CI defaults are small; bench.attack raises them) --------------------------------
EXAMPLES = int(os.environ.get("MEMPORTAL_ATTACK_EXAMPLES", "8"))
STEPS = int(os.environ.get("MEMPORTAL_ATTACK_STEPS", "60"))
COLLECT = os.environ.get("MEMPORTAL_ATTACK_COLLECT") == "1"  # record violations and go on (bench)
RANDOM = os.environ.get("MEMPORTAL_ATTACK_RANDOM") == "1"  # CI is derandomized; bench is not
SHRINK = os.environ.get("MEMPORTAL_ATTACK_SHRINK") == "1"  # minimise a failing program (slow)
STRICT = os.environ.get("MEMPORTAL_ATTACK_STRICT") == "1"  # known bugs fail too
SUMMARY = os.environ.get("MEMPORTAL_ATTACK_SUMMARY", "")

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")
KEY_RE = re.compile(r"mpk_[a-z0-9]{8,16}_[A-Za-z0-9_\-]{32,128}")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ERASE_ALL_PHRASE, DELETE_ACCOUNT_PHRASE = "delete everything", "delete my account"
NUMERIC_ID = 98765432101  # an app may name people by number (the API takes ints as ids)
JUNK_IDS = ("00000000-0000-0000-0000-000000000000", "not-a-uuid", "*", "%2A", "..%2F..%2Fetc", "x" * 300)

STATS: dict[str, Any] = {"steps": 0, "examples": 0, "violations": Counter(), "known": Counter(), "samples": {},
                         "rules": Counter(), "outcomes": Counter()}

#: Bugs the suite found that are not fixed yet: a narrow matcher (kind, detail, route) -> bool per
#: bug id. Each such bug also gets a plain regression test marked xfail(strict=True) in
#: tests/attack/test_regressions.py; when the fix lands that test XPASSes (fails) and its mark and
#: its entry here go. Matches are counted (the summary's "known_bugs"), not failed. The four bugs
#: found first are fixed (docs/security.md); this one is open.
KNOWN_BUGS: dict[str, Any] = {}


def _webhook_rows_holding(needles: list[str]) -> bool:
    """A webhook delivery holding a needle, other than an erasure notice still to be delivered: the
    notice names the erased person to the app (its own id for them) until it is delivered or given
    up, then drops it (memportal.agents.webhooks, docs/security.md)."""
    patterns = [_like(n) for n in needles if n]
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM agents_webhookdelivery AS r WHERE r::text LIKE ANY(%s) AND NOT "
                    "(state = 'pending' AND event_type LIKE 'erasure%%' AND subject_id IS NULL) LIMIT 1", [patterns])
        return cur.fetchone() is not None


class AttackViolation(AssertionError):
    pass


def _route(path: str) -> str:
    """A path with ids and tokens replaced, to group violations."""
    path = path.split("?", 1)[0]
    path = UUID_RE.sub("<id>", path)
    path = re.sub(r"/portal/[^/]+/", "/portal/<token>/", path)
    return re.sub(r"/api/keys/\d+/", "/api/keys/<pk>/", path)


class Resp:
    def __init__(self, status: int, text: str, location: str = "", error: str = "") -> None:
        self.status, self.text, self.location, self.error = status, text, location, error

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


class AttackMachine(RuleBasedStateMachine):
    export_dir: Path = Path("/nonexistent")
    tables: list[str] = []

    # --- the world ------------------------------------------------------------------------------------
    def __init__(self) -> None:
        super().__init__()
        database_reset(self.tables)
        folder_reset(self.export_dir)
        STATS["examples"] += 1
        self.n = 0
        self.persons: list[Person] = []
        self.operators: list[Operator] = []
        self.keys: list[Key] = []
        self.bogus: list[Key] = []
        self.mems: dict[str, Mem] = {}
        self.texts: dict[str, Text] = {}
        self.links: list[PortalLink] = []
        self.jobs: list[ExportJob] = []
        self.api_exports: list[tuple[str, str]] = []
        self.receipts: list[Receipt] = []
        self.browsers: dict[Any, Client] = {}
        self.anon = Client(raise_request_exception=True)
        self.api = Client(raise_request_exception=True)
        self.offboarded: set[str] = set()
        self.offboarding_queued: dict[str, str] = {}  # slug -> what happens to memberships: end | keep
        self.web_keys = 0
        self.other_devices: list[Client] = []
        self.named_after_erasure: set[str] = set()  # erased ids an app named again in an export request
        self.delete_jobs: list[DeleteJob] = []  # tenant-wide API deletes, queued
        self.webhooks: dict[int, list[Any]] = {}  # id -> [tenant, url, deleted]
        self._build()

    def _build(self) -> None:
        User = get_user_model()
        from allauth.account.models import EmailAddress

        for slug in TENANTS:
            make_tenant(slug)
        staff_of: dict[str, Operator] = {}
        for slug in TENANTS:
            short = SHORT[slug]
            for i in range(2):
                made = make_person(f"{short}_person{i}", slug)
                self.persons.append(Person(
                    label=f"{short}P{i}", tenant=slug, kind="signup", email=made.user.email,
                    username=made.user.username, user_pk=made.user.pk, member_pk=made.member.pk,
                    subject_id=made.member.subject_id, state="active",
                ))
            made = make_person(f"{short}_staff", slug, role="staff")
            own = Person(label=f"{short}S", tenant=slug, kind="staff", user_pk=made.user.pk,
                         member_pk=made.member.pk, subject_id=made.member.subject_id, state="active")
            self.persons.append(own)
            staff_of[slug] = Operator(f"{short}Staff", slug, made.user.pk, made.user.email, own)
            self.operators.append(staff_of[slug])
            for i in range(APP_IDS_PER_TENANT):
                self.persons.append(Person(label=f"{short}X{i}", tenant=slug, kind="app",
                                           external_id=f"{short}-cust{i}"))
        roots = {}
        for name in ("root_admin", "former_root"):
            user = User.objects.create_superuser(username=name, email=f"{name}@example.com", password=PASSWORD)
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
            roots[name] = user
        self.root = Operator("root", None, roots["root_admin"].pk, roots["root_admin"].email)
        self.operators.append(self.root)
        users = {op.user_pk: User.objects.get(pk=op.user_pk) for op in staff_of.values()}
        for slug in TENANTS:
            short, staff_user = SHORT[slug], users[staff_of[slug].user_pk]
            tenant = make_tenant(slug)
            specs = [
                ("ro", {"read"}, "staff", staff_user), ("wo", {"write"}, "staff", staff_user),
                ("rw", {"read", "write"}, "staff", staff_user),
                ("admin", {"read", "write", "tenant_admin"}, "superuser", roots["root_admin"]),
                ("cli", {"read", "write"}, "cli", None),
                ("demoted", {"read", "write", "tenant_admin"}, "demoted", roots["former_root"]),
                ("revoked", {"read", "write"}, "staff", staff_user),
                ("expired", {"read", "write"}, "staff", staff_user),
            ]
            for name, perms, creator, by in specs:
                row, raw = appkey_create(tenant=tenant, name=f"{short} {name} key", permissions=perms, created_by=by)
                key = Key(f"{short}:{name}", slug, frozenset(perms), creator, raw, row.prefix, row.pk)
                if name == "revoked":
                    appkey_revoke(key=row)
                    key.active = False
                if name == "expired":
                    AppKey.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(hours=1))
                    key.active = False
                self.keys.append(key)
        User.objects.filter(pk=roots["former_root"].pk).update(is_superuser=False)  # its admin keys lose power
        real = self.keys[0]
        self.bogus = [
            Key("bogus:unknown", "", frozenset(), "bogus", "mpk_deadbeef00_" + "A" * 43),
            Key("bogus:wrong-secret", real.tenant, frozenset(), "bogus", f"mpk_{real.prefix}_" + "B" * 43),
            Key("bogus:malformed", "", frozenset(), "bogus", "not-a-key"),
            Key("bogus:empty", "", frozenset(), "bogus", ""),
        ]
        # A little data to find from the first step: one memory per sign-up, two for one app person.
        for p in self.persons:
            if p.kind == "signup":
                self._seed(p, AGENTS[0], RUNS[0])
        for slug in TENANTS:
            p = self._app_person(slug, f"{SHORT[slug]}-cust0")
            member = membership_for_external(tenant=make_tenant(slug), external_id=p.external_id, create=True)
            p.member_pk, p.subject_id, p.state = member.pk, member.subject_id, "active"
            self._seed(p, AGENTS[1], RUNS[1])
            self._seed(p, AGENTS[2], None)
            self._portal_browser(p)

    def _portal_browser(self, person: Person) -> None:
        """The app's first person opened a portal link before the run (through the real routes), so
        from the first step someone an app named has a browser: their "Your apps" stops matter to keys."""
        key = next(k for k in self.keys if k.tenant == person.tenant and k.label.endswith(":rw"))
        resp = self.api.post("/api/v1/portal-sessions", data=json.dumps({"user_id": person.external_id}),
                             content_type="application/json", headers={"Authorization": f"Token {key.raw}"})
        path = "/portal/" + resp.json()["url"].rstrip("/").rsplit("/portal/", 1)[-1] + "/"
        client = Client(raise_request_exception=True)
        client.get(path)
        if client.post(path).status_code == 302:
            person.user_pk = Membership.objects.get(pk=person.member_pk).user_id
            self.browsers[person] = client

    def _seed(self, person: Person, agent: str | None, run: str | None) -> None:
        text = self._new_text(person)
        member = Membership.objects.select_related("tenant").get(pk=person.member_pk)
        record = memory_add(member=member, messages=text.full, agent_id=agent, run_id=run)[0]
        self.mems[str(record.id)] = Mem(str(record.id), person, text.full, [text.full], agent, run)

    def teardown(self) -> None:
        # The end of every example: everything erased is gone everywhere, and every reader of
        # every person still here is on their "Who looked" page.
        self._scan_erased()
        for p in self.persons:
            if p.active and p.tenant not in self.offboarded and p.lookers and self._can_browse(p):
                self._who_looked_check(p)

    # --- model helpers ----------------------------------------------------------------------------------
    def _new_text(self, owner: Person | None) -> Text:
        self.n += 1
        token = f"tok{self.n:05d}z"
        text = Text(f"{owner.label if owner else 'nobody'} secret {token}", token, owner)
        self.texts[token] = text
        return text

    def _app_person(self, slug: str, external_id: str, create: bool = True) -> Person | None:
        """The model's person the tenant's app means by ``external_id`` (its newest one)."""
        found = [p for p in self.persons if p.kind == "app" and p.tenant == slug and p.external_id == external_id]
        if found:
            return found[-1]
        if not create:
            return None
        count = sum(1 for p in self.persons if p.kind == "app" and p.tenant == slug)
        person = Person(label=f"{SHORT[slug]}X{count}", tenant=slug, kind="app", external_id=external_id)
        self.persons.append(person)
        return person

    def _learn_member(self, person: Person) -> None:
        member = Membership.objects.filter(
            tenant__slug=person.tenant, external_id=person.external_id, ended_at__isnull=True
        ).first()
        if member is None:
            self._violation("model", "membership missing after a successful API call", person.label)
            return
        person.member_pk, person.subject_id, person.state = member.pk, member.subject_id, "active"
        person.user_pk = member.user_id or person.user_pk

    def _usable(self, key: Key, perm: str | None = None) -> bool:
        if key.pk is None or not key.active or key.tenant in self.offboarded:
            return False
        if perm is None:
            return True
        if perm == "tenant_admin":
            return "tenant_admin" in key.perms and key.creator in ("superuser", "web-superuser")
        return perm in key.perms

    def _reaches(self, key: Key, mem: Mem | None) -> bool:
        return (mem is not None and mem.alive and mem.owner.kind == "app" and mem.owner.tenant == key.tenant
                and mem.owner.active and key.tenant not in self.offboarded)

    def _audits(self, actor: Any, slug: Any) -> bool:
        return isinstance(actor, Operator) and slug in TENANTS and slug not in self.offboarded and (
            actor.superuser or actor.tenant == slug)

    def _live_person(self, actor: Any) -> Person | None:
        """The active person a browser request acts as ("your data"): a person, or a staff member's own
        membership; None for superusers (no membership), strangers and ended memberships."""
        if isinstance(actor, Operator):
            actor = actor.person
        if isinstance(actor, Person) and actor.active and actor.tenant not in self.offboarded:
            return actor
        return None

    @staticmethod
    def _same_user(actor: Any, person: Person) -> bool:
        return actor is person or (isinstance(actor, Operator) and actor.person is person)

    def _can_browse(self, identity: Any) -> bool:
        return identity is None or (identity.user_pk is not None and not getattr(identity, "account_deleted", False))

    def _people_with_browsers(self) -> list[Person]:
        return [p for p in self.persons if p.kind != "staff" and p.user_pk is not None and not p.account_deleted]

    def _web_actors(self) -> list[Any]:
        return [None, *self.operators, *self._people_with_browsers()]

    def _browser(self, identity: Any) -> Client:
        if identity is None:
            return self.anon
        client = self.browsers.get(identity)
        if client is None:
            client = self._sign_in(identity)
            self.browsers[identity] = client
        return client

    def _sign_in(self, identity: Any) -> Client:
        """A new browser signed in as ``identity``: through allauth's login form when the account has
        a password (so the session holds what a real sign-in leaves there, the email included),
        else (a portal user) the way a portal link signs in."""
        client = Client(raise_request_exception=True)
        user = get_user_model().objects.get(pk=identity.user_pk)
        if user.has_usable_password():
            response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
            if response.status_code == 302 and client.session.get("_auth_user_id") == str(user.pk):
                return client
            STATS["outcomes"]["sign-in form refused (force_login used)"] += 1
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    def _erase(self, mems: list[Mem], tenant: str) -> None:
        for mem in mems:
            mem.alive = False
            for version in mem.versions:
                self.texts[TOKEN_RE.search(version).group(0)].erased = True
        for job in self.jobs:  # any erasure in a tenant removes all of its export files
            if job.tenant == tenant and job.state in ("queued", "done"):
                job.state = "erased"

    def _alive(self, person: Person, agent: str | None = None, run: str | None = None) -> list[Mem]:
        return [m for m in self.mems.values() if m.alive and m.owner is person
                and (agent is None or m.agent == agent) and (run is None or m.run == run)]

    def _identifiers(self) -> dict[str, list[Person]]:
        holders: dict[str, list[Person]] = {}
        for p in self.persons:
            if p.state == "absent":
                continue
            for ident in (p.email, p.external_id):
                if ident:
                    holders.setdefault(ident, []).append(p)
        return holders

    def _erased_identifiers(self) -> list[str]:
        return [i for i, holders in self._identifiers().items() if all(h.ids_erased for h in holders)]

    def _erased_texts(self) -> list[str]:
        return [t.full for t in self.texts.values() if t.erased]

    # --- drawing ------------------------------------------------------------------------------------------
    @staticmethod
    def pick(data: Any, seq: Any, label: str) -> Any:
        seq = list(seq)
        return data.draw(st.sampled_from(seq), label=label)

    def _key(self, data: Any, perm: str, bogus: int = 4) -> Key:
        """Half the time a key that may do ``perm`` (so the suite gets past the door), else any
        key: every permission, every creator, revoked, expired and bogus ones."""
        may = [k for k in self.keys if self._usable(k, perm)]
        if may and data.draw(st.booleans(), label=f"a key with {perm}"):
            return self.pick(data, may, "key")
        return self.pick(data, self.keys + self.bogus[:bogus], "key")

    def _user_id(self, data: Any, key: Key) -> Any:
        """Half the time one of the key's own tenant's ids for its people, else anything: the other
        tenant's ids, a sign-up's email, a number, "*", "", a list, an operator object."""
        if key.tenant in TENANTS and data.draw(st.booleans(), label="the app's own id for someone"):
            return self.pick(data, [f"{SHORT[key.tenant]}-cust{i}" for i in range(APP_IDS_PER_TENANT)], "user_id")
        return self.pick(data, self._user_id_pool(), "user_id")

    def _user_id_pool(self) -> list[Any]:
        ids = [f"{SHORT[s]}-cust{i}" for s in TENANTS for i in range(APP_IDS_PER_TENANT)]
        ids += [p.email for p in self.persons if p.kind == "signup"][:2]
        return [*ids, "*", "", ["ca-cust0"], {"in": ["ca-cust0"]}, NUMERIC_ID]

    @staticmethod
    def _valid_id(value: Any, key: Key) -> tuple[bool, str]:
        """Whether the API takes ``value`` as a user_id (ints are ids too), and its string form."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return isinstance(value, str) and bool(ID_RE.match(value)) and key.tenant in TENANTS, str(value)

    def _memory(self, data: Any, mine: Any = None) -> tuple[str, Mem | None]:
        """Half the time a memory ``mine`` may reach (a key's, or a person's own), else any id at all."""
        if isinstance(mine, Key):
            reachable = [m for m in self.mems.values() if self._reaches(mine, m)]
        else:
            me = self._live_person(mine)
            reachable = [m for m in self.mems.values() if me is not None and m.alive and m.owner is me]
        if reachable and data.draw(st.booleans(), label="a reachable memory"):
            mem = self.pick(data, reachable, "memory")
            return mem.id, mem
        return self.pick(data, self._memory_pool(), "memory")

    def _memory_pool(self) -> list[tuple[str, Mem | None]]:
        pool: list[tuple[str, Mem | None]] = [(m.id, m) for m in self.mems.values()]
        if self.mems:
            first = next(iter(self.mems.values()))
            pool += [(first.id.upper(), first), (f"urn:uuid:{first.id}", first)]
        return pool + [(j, None) for j in JUNK_IDS]

    def _query_pool(self) -> list[str]:
        tokens = sorted(self.texts)
        return ["secret", "food preferences", *(p.label for p in self.persons[:4]), *tokens[-6:], *tokens[:3]]

    def _filters(self, data: Any, key: Key, stored: bool = False) -> tuple[dict | None, dict]:
        """API filters. ``stored`` (an export request keeps its filter): only the key's own tenant's
        ids, since another tenant's id typed by this app is its own input about nobody here, which
        no erasure there can be expected to remove (it would be a test artifact, not a leak)."""
        ids = [i for i in self._user_id_pool() if isinstance(i, str) and i and i != "*"]
        if stored and key.tenant in TENANTS:
            ids = [f"{SHORT[key.tenant]}-cust{i}" for i in range(APP_IDS_PER_TENANT)]
        other = next(s for s in TENANTS if s != key.tenant) if key.tenant in TENANTS else TENANTS[0]
        x, y = self.pick(data, ids, "x"), self.pick(data, ids, "y")
        agent, run = self.pick(data, AGENTS, "agent"), self.pick(data, RUNS, "run")
        shapes = {
            "user": ({"user_id": x}, {}),
            "star": ({"user_id": "*"}, {}),
            "and": ({"AND": [{"user_id": x}, {"agent_id": agent}]}, {}),
            "or": ({"OR": [{"user_id": x}, {"user_id": y}]}, {}),
            "in": ({"user_id": {"in": [x, y]}}, {}),
            "agent_star": ({"agent_id": "*"}, {}),
            "run": ({"run_id": run}, {}),
            "other_app": ({"app_id": other, "user_id": "*"}, {}),
            "own_app": ({"AND": [{"app_id": key.tenant or other}, {"user_id": "*"}]}, {}),
            "any_app": ({"app_id": "*", "user_id": "*"}, {}),
            "in_other_app": ({"AND": [{"app_id": {"in": [other, "*"]}}, {"user_id": x}]}, {}),
            "top": (None, {"user_id": x}),
            "top_other_app": (None, {"user_id": x, "app_id": other}),
            "not": ({"NOT": {"user_id": x}}, {}),
            "gte": ({"user_id": {"gte": x}}, {}),
        }
        return shapes[self.pick(data, sorted(shapes), "filters")]

    # --- one request, checked ---------------------------------------------------------------------
    def _marks(self) -> tuple[int, dict[tuple[int, str], int]]:
        with connection.cursor() as cur:
            cur.execute("SELECT coalesce(max(id), 0) FROM staff_accessrecord")
            access_max = cur.fetchone()[0]
            cur.execute("SELECT app_key_id, subject_id, sum(requests) FROM agents_keyread GROUP BY 1, 2")
            reads = {(r[0], r[1]): r[2] for r in cur.fetchall()}
        return access_max, reads

    def _send(self, actor: Any, method: str, path: str, *, form: dict | str | None = None, body: Any = None,
              hx: bool = False, portal: Person | None = None, job: str | None = None, client: Client | None = None,
              check_identity: bool = True, echo: str = "") -> Resp:
        """One request as ``actor``; its answer checked against (a) and (c). ``echo``: text the page
        may show back because someone typed it (an export job's filter), not read from memories."""
        STATS["requests"] = STATS.get("requests", 0) + 1
        if isinstance(actor, Key):
            client = self.api
            headers = {"Authorization": f"Token {actor.raw}"} if actor.raw else {}
        else:
            client = client or self._browser(actor)
            headers = {}
        if hx:
            headers["HX-Request"] = "true"
        sent = unquote_plus(path) + echo  # what the actor sent, decoded: its own input is not a leak
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None and method == "GET":
            body = None  # a GET carries no body
        if body is not None:
            sent += json.dumps(body)
            kwargs.update(data=json.dumps(body), content_type="application/json")
        elif isinstance(form, str):  # pre-encoded, e.g. with a repeated parameter
            sent += unquote_plus(form)
            kwargs.update(data=form, content_type="application/x-www-form-urlencoded")
        elif form is not None:
            sent += " ".join(f"{k}={v}" for k, v in form.items())
            kwargs["data"] = form
        marks = self._marks()
        try:
            response = client.generic(method, path, **kwargs) if method not in ("GET", "POST") else (
                client.get(path, **kwargs) if method == "GET" else client.post(path, **kwargs))
            raw = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
            response.close()
            resp = Resp(response.status_code, raw.decode("utf-8", "replace"), response.get("Location", ""))
        except Exception as exc:  # a 500: every one is a bug
            self._violation("server error", f"{method} {_route(path)} as {actor!r}: "
                            f"{type(exc).__name__}: {str(exc)[:300]}\n{''.join(traceback.format_exception(exc)[-4:])}",
                            _route(path))
            return Resp(500, "", error=type(exc).__name__)
        self._check_response(actor, path, sent, resp, marks, portal=portal, job=job)
        if check_identity and not isinstance(actor, Key):
            self._identity_check(actor, client, path)
        return resp

    def _identity_check(self, actor: Any, client: Client, path: str) -> None:
        expected = None if actor is None else actor.user_pk
        got = client.session.get("_auth_user_id")
        if (None if got is None else int(got)) != expected:
            self._violation("account switched", f"after {_route(path)} the browser of {actor!r} is signed in as "
                            f"user {got}, expected {expected}", _route(path))

    def _entitled(self, actor: Any, path: str) -> set[Person]:
        """Whose texts this actor may receive on this route."""
        if isinstance(actor, Key):
            if not self._usable(actor, "read"):
                return set()
            named = {p for p in self.persons if p.kind == "app" and p.tenant == actor.tenant and p.active}
            if any(p.reads_stopped for p in named):
                STATS["outcomes"]["(d) a key read while someone its app named stopped it reading"] += 1
            return named
        if path.startswith("/staff/"):
            slug = path.split("/")[2]
            if not self._audits(actor, slug):
                return set()
            return {p for p in self.persons if p.tenant == slug and p.active}
        me = self._live_person(actor)
        return {me} if me else set()

    def _entitled_ids(self, actor: Any, path: str, portal: Person | None) -> set[Person]:
        """Whose identifiers (email, the app's id) this actor may receive on this route."""
        out: set[Person] = set()
        if portal is not None:
            out.add(portal)
        if isinstance(actor, Key):
            return out | {p for p in self.persons if p.kind == "app" and p.tenant == actor.tenant}
        if path.startswith("/staff/"):
            slug = path.split("/")[2]
            if self._audits(actor, slug):
                out |= {p for p in self.persons if p.tenant == slug}
            return out
        if isinstance(actor, Person):
            out.add(actor)
        return out

    def _check_response(self, actor: Any, path: str, sent: str, resp: Resp, marks: Any, *,
                        portal: Person | None, job: str | None) -> None:
        body = resp.text
        if not body:
            return
        route = _route(path)
        entitled = self._entitled(actor, path)
        read: set[Person] = set()
        for token, text in self.texts.items():
            if text.full in sent:
                continue  # the actor's own input, echoed
            needle = text.full if token in sent else token
            if needle not in body:
                continue
            owner = text.owner.label if text.owner else "nobody"
            at = body.find(needle)
            context = body[max(0, at - 150): at + 80].replace("\n", " ")
            if text.erased:
                self._violation("(a) erased text served", f"{route} as {actor!r} (HTTP {resp.status}) served "
                                f"erased text of {owner}: {text.full!r} in ...{context}...", route)
            elif isinstance(actor, Key) and text.owner in entitled and text.owner.reads_stopped:
                self._violation("(d) stopped reading, read anyway", f"{route} as {actor!r} (HTTP {resp.status}) "
                                f"returned {owner}'s text {text.full!r}, who stopped this app reading their "
                                f"memories, in ...{context}...", route)
            elif text.owner is None or text.owner not in entitled:
                self._violation("(a) foreign text served", f"{route} as {actor!r} (HTTP {resp.status}) served "
                                f"{owner}'s text {text.full!r} in ...{context}...", route)
            else:
                read.add(text.owner)
        allowed = self._entitled_ids(actor, path, portal)
        for ident, holders in self._identifiers().items():
            if ident in sent or ident not in body:
                continue
            if all(h.ids_erased for h in holders):
                self._violation("(a) erased identifier served",
                                f"{route} as {actor!r} served erased identifier {ident!r}", route)
            elif not any(h in allowed for h in holders):
                self._violation("(a) foreign identifier served", f"{route} as {actor!r} (HTTP {resp.status}) "
                                f"served {ident!r} of {holders}", route)
        for owner in read:
            if not self._same_user(actor, owner):
                self._check_logged(actor, owner, marks, f"{route} (HTTP {resp.status}, sent {sent[:300]!r})", job)

    def _check_logged(self, actor: Any, owner: Person, marks: Any, where: str, job: str | None) -> None:
        """(c): a read by anyone but the person is on the person's 'Who looked' (made by this step)."""
        access_max, reads = marks
        route = where.split(" ", 1)[0]
        STATS["outcomes"][f"(c) reads by {'a key' if isinstance(actor, Key) else 'staff'} checked"] += 1
        if isinstance(actor, Key):
            now = KeyRead.objects.filter(app_key_id=actor.pk, subject_id=owner.subject_id)
            total = sum(now.values_list("requests", flat=True))
            if total > reads.get((actor.pk, owner.subject_id), 0):
                owner.lookers.add(actor.looker_label)
            else:
                self._violation("(c) read not logged", f"{where}: key {actor!r} read {owner.label}'s memories "
                                "and no key read was recorded", route)
        elif isinstance(actor, Operator):
            records = AccessRecord.objects.filter(actor_id=actor.user_pk, subject_ids__contains=[owner.subject_id])
            logged = records.filter(id__gt=access_max).exists() or (
                job is not None and records.filter(filters__job=job).exists())
            if logged:
                owner.lookers.add(actor.email)
            else:
                self._violation("(c) read not logged", f"{where}: {actor!r} read {owner.label}'s memories "
                                f"and no access record names {actor.email} with them"
                                + (f" (export job {job})" if job else ""), route)
        else:
            self._violation("(c) read not logged", f"{where}: {actor!r} read {owner.label}'s memories", route)

    def _violation(self, kind: str, detail: str, route: str = "") -> None:
        for bug, matches in KNOWN_BUGS.items():
            if matches(kind, detail, route) and not STRICT:
                STATS["known"][bug] += 1
                return
        signature = f"{kind} | {route}"
        STATS["violations"][signature] += 1
        STATS["samples"].setdefault(signature, detail[:2000])
        if not COLLECT:
            raise AttackViolation(f"{kind}: {detail}")

    def _expect(self, what: str, expected: bool, ok: bool, resp: Resp, route: str, actor: Any) -> None:
        """The site did what the model says the actor may do: no more (an unauthorised effect), no less."""
        STATS["outcomes"][f"{what}: {'done' if ok else 'refused'}"] += 1
        if ok and not expected:
            self._violation("unauthorised effect", f"{what} as {actor!r} succeeded (HTTP {resp.status}) "
                            f"but must be refused: {resp.text[:300]}", route)
        elif expected and not ok and resp.status != 500:
            self._violation("model: refused", f"{what} as {actor!r} was refused (HTTP {resp.status}) "
                            f"but should succeed: {resp.text[:300]}", route)

    def _expect_locked(self, what: str, locked: bool, resp: Resp, route: str, actor: Any) -> None:
        """(d): an action the key could do but the person stopped (remembering: writes; reading: reads
        naming them) is answered 423 with a JSON detail, nothing else."""
        if not locked:
            return
        STATS["outcomes"][f"(d) {what} for a stopped person: checked"] += 1
        detail = (resp.json() or {}).get("detail") if resp.status == 423 else None
        if resp.status != 500 and not (resp.status == 423 and isinstance(detail, str) and detail):
            self._violation("(d) stopped person not refused", f"{what} as {actor!r} answered {resp.status}, "
                            f"expected 423 with a detail: {resp.text[:300]}", route)

    # --- invariants ---------------------------------------------------------------------------------------
    @invariant()
    def memory_table_matches_the_model(self) -> None:
        rows = memory_rows()
        live = {m.id: m for m in self.mems.values() if m.alive}
        for mid, (text, subject, app_id, _agent, _run) in rows.items():
            mem = live.get(mid)
            if mem is None:
                self._violation("unauthorised effect", f"memory {mid} {text!r} (user {subject}, {app_id}) "
                                "is stored but no entitled action wrote it", "memory table")
                self._adopt(mid, text, subject)
            elif (text, subject, app_id) != (mem.text, mem.owner.subject_id, mem.owner.tenant):
                self._violation("unauthorised effect", f"memory {mid} is {text!r} of {subject}/{app_id}, the "
                                f"model says {mem.text!r} of {mem.owner.label}", "memory table")
                mem.text = text or mem.text
        for mid, mem in live.items():
            if mid not in rows:
                self._violation("unauthorised effect", f"{mem!r} vanished without an entitled erasure",
                                "memory table")
                self._erase([mem], mem.owner.tenant)

    def _adopt(self, mid: str, text: str, subject: str) -> None:
        """(collect mode) take an unexpected row into the model so one bug is reported once."""
        match = TOKEN_RE.search(text or "")
        owner = next((p for p in self.persons if p.subject_id == subject), None)
        if match and owner is not None:
            self.texts[match.group(0)].owner = owner
            self.mems[mid] = Mem(mid, owner, text, [text], None, None)

    @invariant()
    def export_folder_holds_nothing_erased(self) -> None:
        needles = self._erased_texts() + self._erased_identifiers()
        for name, needle in files_find(self.export_dir, needles):
            self._violation("(b) erased data in an export file", f"{name} holds {needle!r}", "export folder")

    def _scan_erased(self) -> None:
        """(b): no erased text or identifier in any table (every column) or file."""
        needles = self._erased_texts() + self._erased_identifiers()
        if not needles:
            return
        for table, row in tables_holding(self.tables, needles).items():
            if table == "agents_webhookdelivery" and not _webhook_rows_holding(needles):
                continue  # only erasure notices not yet delivered (docs/security.md: the one exception)
            hits = [(c, n) for t, c, n in database_find(needles) if t == table]
            named_again = table == "agents_memoryexportrequest" and hits and all(
                n in self.named_after_erasure for _, n in hits)
            where = table + (" (an id named again after its erasure)" if named_again else "")
            self._violation("(b) erased data still stored",
                            ("; ".join(f"{table}.{c} holds {n!r}" for c, n in hits) or f"a row of {table}")
                            + f" (row: {row})", where)
        orphans = {p.email for p in self.persons if p.deleted_without_membership and p.email}
        for key, needle in sessions_holding(needles):  # session data is signed base64: decoded here
            route = "django_session (decoded)" + (", account had no live membership" if needle in orphans else "")
            self._violation("(b) erased data still stored", f"django_session {key[:8]}... holds {needle!r}", route)

    def _who_looked_check(self, person: Person) -> None:
        resp = self._send(person, "GET", "/you/who-looked/")
        if resp.status != 200:
            self._violation("(c) who-looked unavailable", f"{person!r} got HTTP {resp.status}", "/you/who-looked/")
            return
        for label in sorted(person.lookers):
            if label not in resp.text:
                self._violation("(c) reader missing from who-looked",
                                f"{person.label}'s page does not name {label}", "/you/who-looked/")

    def _step(self) -> None:
        STATS["steps"] += 1
        STATS["rules"][traceback.extract_stack(limit=2)[0].name] += 1

    # --- API: writes -------------------------------------------------------------------------------------
    @rule(data=st.data())
    def api_add(self, data: Any) -> None:
        self._step()
        key = self._key(data, "write")
        target = self._user_id(data, key)
        variant = self.pick(data, ["plain", "plain", "filters_same", "filters_conflict", "app_other", "app_own",
                                   "agent_star"], "variant")
        agent, run = self.pick(data, (None, *AGENTS), "agent"), self.pick(data, (None, *RUNS), "run")
        roles = [self.pick(data, ["user", "user", "assistant"], "role") for _ in range(data.draw(
            st.integers(1, 2), label="messages"))]
        infer = self.pick(data, [None, None, True, False], "infer")  # None: not sent (the platform infers)
        path = self.pick(data, ["/v1/memories/", "/v3/memories/add/", "/api/v1/memories/"], "path")
        valid, target_id = self._valid_id(target, key)
        owner = self._app_person(key.tenant, target_id, create=False) if valid else None
        allowed = self._usable(key, "write") and valid and variant in ("plain", "filters_same", "app_own")
        expected = allowed and not (owner is not None and (owner.state == "ended" or owner.paused))
        locked = allowed and owner is not None and owner.active and owner.paused
        if expected and owner is None:
            owner = self._app_person(key.tenant, target_id)
        # Without an LLM, inference stores what the person said (user lines) and not a text they
        # already have (NOOP); infer=false stores every line.
        stored = [expected and (role == "user" or infer is False) for role in roles]
        texts = [self._new_text(owner if keep else None) for keep in stored]
        messages = [{"role": role, "content": t.full} for role, t in zip(roles, texts, strict=True)]
        again = self._alive(owner) if owner is not None and infer is not False else []
        if again and data.draw(st.booleans(), label="repeat a stored text"):
            messages.append({"role": "user", "content": self.pick(data, again, "repeated").text})
        body: dict[str, Any] = {"messages": messages}
        if infer is not None:
            body["infer"] = infer
        if variant == "filters_same":
            body["filters"] = {"user_id": target}
        else:
            body["user_id"] = target
        other = next((s for s in TENANTS if s != key.tenant), TENANTS[0])
        if variant == "filters_conflict":
            body["filters"] = {"user_id": "sb-cust1" if target != "sb-cust1" else "ca-cust1"}
        if variant in ("app_other", "app_own"):
            body["app_id"] = other if variant == "app_other" else key.tenant
        if variant == "agent_star":
            body["agent_id"] = "*"
        elif agent:
            body["agent_id"] = agent
        if run:
            body["run_id"] = run
        resp = self._send(key, "POST", path, body=body)
        ok = resp.status == 200
        self._expect("add", expected, ok, resp, _route(path), key)
        self._expect_locked("add", locked, resp, _route(path), key)
        if ok and expected:
            self._learn_member(owner)
            want = {t.full: t for t, keep in zip(texts, stored, strict=True) if keep}
            added = [i for i in (resp.json() or {}).get("results", []) if i.get("event") == "ADD"]
            if sorted(i.get("memory") for i in added) != sorted(want):
                self._violation("unauthorised effect", f"add of {messages} (infer={infer}) as {key!r} stored "
                                f"{[i.get('memory') for i in added]}, expected {sorted(want)}", _route(path))
            noop = [i for i in (resp.json() or {}).get("results", []) if i.get("event") == "NOOP"]
            told = [i for i in noop if i.get("id") is not None or set(i) - {"id", "memory", "user_id", "event"}]
            if told and (not self._usable(key, "read") or owner.reads_stopped):
                # A write-only key (or one whose app the person stopped reading) may learn that nothing
                # new was stored, not which memory exists.
                self._violation("(a) existing memory disclosed to a write-only key",
                                f"add as {key!r} answered NOOP with {owner.label}'s existing memory {told[0]}",
                                _route(path))
            for item in added:
                if item.get("memory") in want:
                    text = item["memory"]
                    self.mems[item["id"]] = Mem(item["id"], owner, text, [text], agent, run)

    @rule(data=st.data())
    def api_update(self, data: Any) -> None:
        self._step()
        key = self._key(data, "write", 2)
        mid, mem = self._memory(data, key)
        allowed = self._usable(key, "write") and self._reaches(key, mem)
        expected = allowed and not mem.owner.paused
        text = self._new_text(mem.owner if expected else None)
        path = f"/v1/memories/{quote(mid, safe=':')}/"
        resp = self._send(key, "PUT", path, body={"text": text.full})
        ok = resp.status == 200
        self._expect("update", expected, ok, resp, _route(path), key)
        self._expect_locked("update", allowed and mem.owner.paused, resp, _route(path), key)
        if ok and expected:
            mem.text = text.full
            mem.versions.append(text.full)

    @rule(data=st.data())
    def api_delete(self, data: Any) -> None:
        self._step()
        key = self._key(data, "write", 2)
        mid, mem = self._memory(data, key)
        expected = self._usable(key, "write") and self._reaches(key, mem)
        path = f"/v1/memories/{quote(mid, safe=':')}/"
        resp = self._send(key, "DELETE", path)
        ok = resp.status == 200
        self._expect("delete", expected, ok, resp, _route(path), key)
        if ok and expected:
            self._erase([mem], mem.owner.tenant)
            self._scan_erased()

    @rule(data=st.data())
    def api_delete_all(self, data: Any) -> None:
        self._step()
        key = self._key(data, "write", 2)
        variant = self.pick(data, ["user", "user_agent", "user_run", "agent", "run", "user_star", "repeat",
                                   "app_other", "agent_star", "none"], "variant")
        ids = [i for i in self._user_id_pool() if isinstance(i, str) and i and i != "*"]
        x, y = self.pick(data, ids, "user_id"), self.pick(data, ids, "other_user_id")
        agent, run = self.pick(data, AGENTS, "agent"), self.pick(data, RUNS, "run")
        other = next((s for s in TENANTS if s != key.tenant), TENANTS[0])
        query = {
            "user": [("user_id", x)], "user_agent": [("user_id", x), ("agent_id", agent)],
            "user_run": [("user_id", x), ("run_id", run)], "agent": [("agent_id", agent)], "run": [("run_id", run)],
            "user_star": [("user_id", "*")], "repeat": [("user_id", y), ("user_id", x)],
            "app_other": [("user_id", x), ("app_id", other)], "agent_star": [("agent_id", "*")], "none": [],
        }[variant]
        path = self.pick(data, ["/v1/memories/", "/api/v1/memories/"], "path") + "?" + urlencode(query)
        expected = self._usable(key, "write") and variant in ("user", "user_agent", "user_run", "agent", "run")
        scope_agent = agent if variant in ("user_agent", "agent") else None
        scope_run = run if variant in ("user_run", "run") else None
        if variant in ("agent", "run"):  # everyone's: a queued job (202), run by the worker
            resp = self._send(key, "DELETE", path)
            self._tenant_delete_queued(key, resp, expected, scope_agent, scope_run, _route(path))
            return
        person = self._app_person(key.tenant, x, create=False) if key.tenant in TENANTS else None
        targets = [person] if person is not None and person.active else []
        doomed = [m for p in targets for m in self._alive(p, scope_agent, scope_run)]
        resp = self._send(key, "DELETE", path)
        ok = resp.status == 200
        self._expect("delete_all", expected, ok, resp, _route(path), key)
        if ok and expected:
            deleted = (resp.json() or {}).get("deleted")
            if deleted != len(doomed):
                self._violation("unauthorised effect", f"delete_all {query} as {key!r} erased {deleted}, the "
                                f"model expected {len(doomed)}: {doomed}", _route(path))
            if targets:
                self._erase(doomed, key.tenant)
            self._scan_erased()

    def _tenant_delete_queued(self, key: Key, resp: Resp, expected: bool, agent: str | None, run: str | None,
                              route: str) -> None:
        ok = resp.status == 202 and bool((resp.json() or {}).get("job_id"))
        self._expect("tenant-wide delete queued", expected, ok, resp, route, key)
        if ok and expected:
            self.delete_jobs.append(DeleteJob(resp.json()["job_id"], key.tenant, agent, run))

    def _tenant_delete_run(self, job: DeleteJob) -> None:
        """The worker runs a queued tenant-wide delete: every named person's memories in its scope."""
        row = TenantDeleteJob.objects.select_related("tenant").get(pk=job.id)
        doomed = [m for p in self.persons if p.kind == "app" and p.tenant == job.tenant and p.active
                  and job.tenant not in self.offboarded for m in self._alive(p, job.agent, job.run)]
        done = tenant_delete_execute(job=row)
        job.state = "done"
        STATS["outcomes"][f"worker: tenant delete {done.state}"] += 1
        if done.memories_erased != len(doomed):
            self._violation("unauthorised effect", f"{job!r} erased {done.memories_erased}, the model expected "
                            f"{len(doomed)}: {doomed}", "worker: tenant delete")
        if doomed:
            self._erase(doomed, job.tenant)
        self._scan_erased()

    @rule(data=st.data())
    def api_delete_job(self, data: Any) -> None:
        """A tenant-wide delete's progress: the key's own tenant's jobs only."""
        self._step()
        key = self._key(data, "read", 2)
        job = self.pick(data, [*self.delete_jobs, DeleteJob(str(uuid.UUID(int=11)), "", None, None)], "job")
        resp = self._send(key, "GET", f"/v1/memories/jobs/{job.id}/")
        self._expect("delete job status", self._usable(key, "read") and job.tenant == key.tenant,
                     resp.status == 200, resp, "/v1/memories/jobs/<id>/", key)

    @rule(data=st.data())
    def api_portal_link(self, data: Any) -> None:
        self._step()
        key = self._key(data, "write", 2)
        target = self._user_id(data, key)
        path = self.pick(data, ["/api/v1/portal-sessions", "/api/v1/portal-sessions/"], "path")
        valid, target_id = self._valid_id(target, key)
        owner = self._app_person(key.tenant, target_id, create=False) if valid else None
        expected = self._usable(key, "write") and valid and not (owner is not None and owner.state == "ended")
        resp = self._send(key, "POST", path, body={"user_id": target})
        ok = resp.status == 201
        self._expect("portal link", expected, ok, resp, _route(path), key)
        if ok and expected:
            owner = owner or self._app_person(key.tenant, target_id)
            self._learn_member(owner)
            raw = (resp.json() or {}).get("url", "").rstrip("/").rsplit("/portal/", 1)[-1]
            self.links.append(PortalLink(raw, owner, key))

    # --- API: reads ---------------------------------------------------------------------------------------
    @rule(data=st.data())
    def api_list(self, data: Any) -> None:
        self._step()
        key = self._key(data, "read")
        filters, top = self._filters(data, key)
        path = self.pick(data, ["/v3/memories/", "/v2/memories/", "/api/v3/memories/"], "path")
        body = {**top, **({"filters": filters} if filters is not None else {})}
        if data.draw(st.booleans(), label="paged"):
            body["page_size"] = 2
            path += "?page=" + self.pick(data, ["1", "2", "0", "-1", "99999999999"], "page")
        resp = self._send(key, "POST", path, body=body)
        if resp.status == 200 and not self._usable(key, "read"):
            self._violation("unauthorised effect", f"list as {key!r} answered 200", _route(path))

    @rule(data=st.data())
    def api_search(self, data: Any) -> None:
        self._step()
        key = self._key(data, "read")
        filters, top = self._filters(data, key)
        path = self.pick(data, ["/v3/memories/search/", "/v2/memories/search/", "/v1/memories/search/"], "path")
        body = {"query": self.pick(data, self._query_pool(), "query"), **top,
                **({"filters": filters} if filters is not None else {})}
        body["top_k"] = self.pick(data, [1, 5, 100], "top_k")
        resp = self._send(key, "POST", path, body=body)
        if resp.status == 200 and not self._usable(key, "read"):
            self._violation("unauthorised effect", f"search as {key!r} answered 200", _route(path))

    @rule(data=st.data())
    def api_get(self, data: Any) -> None:
        self._step()
        key = self._key(data, "read", 2)
        mid, mem = self._memory(data, key)
        history = data.draw(st.booleans(), label="history")
        path = f"/v1/memories/{quote(mid, safe=':')}/" + ("history/" if history else "")
        resp = self._send(key, "GET", path)
        allowed = self._usable(key, "read") and self._reaches(key, mem)
        self._expect("history" if history else "get", allowed and not mem.owner.reads_stopped,
                     resp.status == 200, resp, _route(path), key)
        self._expect_locked("history" if history else "get", allowed and mem.owner.reads_stopped, resp,
                            _route(path), key)

    @rule(data=st.data())
    def api_export(self, data: Any) -> None:
        self._step()
        key = self._key(data, "read", 2)
        if self.api_exports and data.draw(st.booleans(), label="fetch an earlier export"):
            export_id, _slug = self.pick(data, self.api_exports, "export")
            resp = self._send(key, "POST", "/v1/exports/get/", body={"memory_export_id": export_id})
        else:
            create = data.draw(st.booleans(), label="create")
            filters, top = self._filters(data, key, stored=create)
            body = {**top, **({"filters": filters} if filters is not None else {})}
            if create:
                resp = self._send(key, "POST", "/v1/exports/", body={**body, "schema": {"type": "object"}})
                if resp.status == 201:
                    self.api_exports.append(((resp.json() or {}).get("id", ""), key.tenant))
                    erased = set(self._erased_identifiers())
                    self.named_after_erasure |= {i for i in re.findall(r'"([^"]+)"', json.dumps(body)) if i in erased}
            else:
                resp = self._send(key, "POST", "/v1/exports/get/", body=body)
        if resp.status in (200, 201) and not self._usable(key, "read"):
            self._violation("unauthorised effect", f"export as {key!r} answered {resp.status}", "/v1/exports/")

    @rule(data=st.data())
    def api_offboard(self, data: Any) -> None:
        """DELETE /v1/memories/?app_id=<slug>&confirm_app_id=<slug>: only a superuser's admin key."""
        self._step()
        key = self.pick(data, self.keys + self.bogus[:2], "key")
        variant = self.pick(data, ["no_confirm", "wrong_confirm", "other_app", "confirm"], "variant")
        slug = key.tenant or TENANTS[0]
        other = next(s for s in TENANTS if s != slug)
        query = {"no_confirm": [("app_id", slug)], "wrong_confirm": [("app_id", slug), ("confirm_app_id", other)],
                 "other_app": [("app_id", other), ("confirm_app_id", other)],
                 "confirm": [("app_id", slug), ("confirm_app_id", slug)]}[variant]
        path = "/v1/memories/?" + urlencode(query)
        expected = self._usable(key, "tenant_admin") and variant == "confirm"
        resp = self._send(key, "DELETE", path)
        ok = resp.status == 202
        self._expect("offboard", expected, ok, resp, _route(path), key)
        if ok and expected:
            self.offboarding_queued.setdefault(slug, "end")

    # --- the rest of the platform API: entities, batches, feedback, events, the project ------------------
    @rule(data=st.data())
    def api_entities(self, data: Any) -> None:
        """``users()``: the people the app named, its agents and runs, with counts (labels, no text)."""
        self._step()
        key = self._key(data, "read")
        path = self.pick(data, ["/v1/entities/", "/api/v1/entities/", "/v1/entities/?page=2&page_size=1",
                                "/v1/entities/?page=1&page=2"], "path")
        resp = self._send(key, "GET", path)
        if resp.status == 200 and not self._usable(key, "read"):
            self._violation("unauthorised effect", f"entities as {key!r} answered 200", _route(path))

    @rule(data=st.data())
    def api_entity_delete(self, data: Any) -> None:
        """``delete_users(user_id=|agent_id=|run_id=|app_id=)``: erase a person's, an agent's or a run's
        memories (of the people the app named), or (app, admin key, confirm_app_id) offboard."""
        self._step()
        key = self._key(data, "write", 2)
        kind = self.pick(data, ["user", "user", "agent", "run", "app", "bogus"], "kind")
        other = next((s for s in TENANTS if s != key.tenant), TENANTS[0])
        names = {"user": [i for i in self._user_id_pool() if isinstance(i, str) and i] + [str(NUMERIC_ID)],
                 "agent": [*AGENTS, "*"], "run": [*RUNS, "*"], "app": [key.tenant or other, other], "bogus": ["x"]}
        named = [p.external_id for p in self.persons if p.kind == "app" and p.tenant == key.tenant and p.active]
        if kind == "user" and named and data.draw(st.booleans(), label="someone the app named"):
            names["user"] = named
        name = self.pick(data, names[kind], "name")
        query = ""
        if kind == "app":
            query = "?" + urlencode({"confirm_app_id": self.pick(data, ["", other, name], "confirm_app_id")})
        base = self.pick(data, ["/v2/entities/", "/v1/entities/", "/api/v2/entities/"], "path")
        path = f"{base}{kind}/{quote(name, safe='@:')}/{query}"
        usable = self._usable(key, "write")
        doomed: list[Mem] = []
        person = None
        if kind == "app":
            expected = self._usable(key, "tenant_admin") and name == key.tenant and query.endswith("=" + name)
        elif kind == "user":
            person = self._app_person(key.tenant, name, create=False) if key.tenant in TENANTS else None
            expected = usable and person is not None and person.active and key.tenant not in self.offboarded
            doomed = self._alive(person) if expected else []
        elif kind in ("agent", "run"):
            resp = self._send(key, "DELETE", path)
            self._tenant_delete_queued(key, resp, usable and name != "*", name if kind == "agent" else None,
                                       name if kind == "run" else None, _route(path))
            return
        else:
            expected = False
        resp = self._send(key, "DELETE", path)
        ok = resp.status == (202 if kind == "app" else 200)
        self._expect(f"delete entity {kind}", expected, ok, resp, _route(path), key)
        if not (ok and expected):
            return
        if kind == "app":
            self.offboarding_queued.setdefault(key.tenant, "end")
            return
        deleted = (resp.json() or {}).get("deleted")
        if deleted != len(doomed):
            self._violation("unauthorised effect", f"delete entity {kind} {name} as {key!r} erased {deleted}, "
                            f"the model expected {len(doomed)}: {doomed}", _route(path))
        self._erase(doomed, key.tenant)
        self.receipts.append(Receipt((resp.json() or {}).get("receipt_id", ""), person))
        self._scan_erased()

    @rule(data=st.data())
    def api_batch(self, data: Any) -> None:
        """``batch_update`` / ``batch_delete``: all or nothing, every id owner-checked."""
        self._step()
        key = self._key(data, "write", 2)
        method = self.pick(data, ["PUT", "DELETE"], "method")
        chosen: list[tuple[str, Mem | None]] = []
        for _ in range(data.draw(st.integers(1, 3), label="memories")):
            mid, mem = self._memory(data, key)
            if all(mem is None or mem is not m for _, m in chosen) or data.draw(st.integers(0, 5), label="dup") == 0:
                chosen.append((mid, mem))
        ids = [mid for mid, _ in chosen]
        mems = [mem for _, mem in chosen]
        distinct = len(set(ids)) == len(ids) and len({id(m) for m in mems if m}) == len([m for m in mems if m])
        allowed = self._usable(key, "write") and distinct and all(self._reaches(key, m) for m in mems)
        locked = allowed and method == "PUT" and any(m.owner.paused for m in mems)
        expected = allowed and not locked
        texts = [self._new_text(m.owner if expected else None) for m in mems] if method == "PUT" else []
        items = [{"memory_id": mid, **({"text": texts[n].full} if method == "PUT" else {})}
                 for n, mid in enumerate(ids)]
        path = self.pick(data, ["/v1/batch/", "/api/v1/batch/"], "path")
        resp = self._send(key, method, path, body={"memories": items})
        ok = resp.status == 200
        self._expect(f"batch {method}", expected, ok, resp, path, key)
        self._expect_locked(f"batch {method}", locked, resp, path, key)
        if ok and expected:
            if method == "PUT":
                for mem, text in zip(mems, texts, strict=True):
                    mem.text = text.full
                    mem.versions.append(text.full)
            else:
                for mem in mems:
                    self._erase([mem], mem.owner.tenant)
                self._scan_erased()

    @rule(data=st.data())
    def api_feedback(self, data: Any) -> None:
        """``feedback()``: a rating and a free-text reason about a memory (erased with it)."""
        self._step()
        key = self._key(data, "write", 2)
        mid, mem = self._memory(data, key)
        rating = self.pick(data, ["POSITIVE", "NEGATIVE", "VERY_NEGATIVE", None, "GREAT"], "feedback")
        allowed = self._usable(key, "write") and self._reaches(key, mem) and rating != "GREAT"
        expected = allowed and not mem.owner.paused  # feedback is a write about the person
        reason = self._new_text(mem.owner if expected else None) if data.draw(st.booleans(), label="reason") else None
        body = {"memory_id": mid, "feedback": rating, **({"feedback_reason": reason.full} if reason else {})}
        resp = self._send(key, "POST", self.pick(data, ["/v1/feedback/", "/api/v1/feedback/"], "path"), body=body)
        ok = resp.status == 200
        self._expect("feedback", expected, ok, resp, "/v1/feedback/", key)
        self._expect_locked("feedback", allowed and mem.owner.paused, resp, "/v1/feedback/", key)
        if ok and expected and reason is not None:
            mem.versions.append(reason.full)  # the reason goes with the memory

    @rule(data=st.data())
    def api_events(self, data: Any) -> None:
        """The event feed (history and erasures, no text) and one event: a receipt of any tenant."""
        self._step()
        key = self._key(data, "read", 2)
        receipt = None
        if self.receipts and data.draw(st.booleans(), label="one receipt"):
            receipt = self.pick(data, self.receipts, "receipt")
            path = f"/v1/event/{receipt.id}/"
        else:
            path = self.pick(data, ["/v1/events/", "/v1/events/?page_size=3&page=2", "/v1/event/h1/",
                                    f"/v1/event/{uuid.UUID(int=9)}/", "/v1/event/h0x1/"], "path")
        resp = self._send(key, "GET", path)
        if resp.status == 200 and not self._usable(key, "read"):
            self._violation("unauthorised effect", f"events as {key!r} answered 200", _route(path))
        if resp.status == 200 and receipt is not None and receipt.person is not None and (
                receipt.person.tenant != key.tenant):
            self._violation("unauthorised effect", f"{key!r} read {receipt!r} of {receipt.person.tenant}",
                            "/v1/event/<id>/")

    @rule(data=st.data())
    def api_project(self, data: Any) -> None:
        """ping, and the key's tenant seen as a platform project (and its staff as members)."""
        self._step()
        key = self._key(data, "read", 2)
        slug = self.pick(data, TENANTS, "project")
        page = self.pick(data, ["/v1/ping/", f"/api/v1/orgs/organizations/org_{slug}/projects/{slug}/",
                                f"/api/v1/orgs/organizations/org_{slug}/projects/{slug}/members/",
                                f"/api/v1/orgs/organizations/org_{slug}/projects/"], "page")
        method = self.pick(data, ["GET", "GET", "DELETE", "PATCH", "POST"], "method")
        resp = self._send(key, method, page, body={})
        if resp.status == 200 and page != "/v1/ping/" and slug != key.tenant:
            self._violation("unauthorised effect", f"{key!r} read the project {slug}", _route(page))

    # --- webhooks ---------------------------------------------------------------------------------------
    WEBHOOK_URLS = ("http://127.0.0.1:9/hook", "ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/", "")

    def _manages_webhooks(self, key: Key) -> bool:
        return self._usable(key, "read") and self._usable(key, "write")

    @rule(data=st.data())
    def api_webhook_create(self, data: Any) -> None:
        """``create_webhook``: only a key that may read and write, only in its own tenant's project,
        only an http(s) URL; anything else changes nothing (the invariant compares the table)."""
        self._step()
        key = self._key(data, "write", 2)
        own = data.draw(st.booleans(), label="the key's own project")
        slug = key.tenant if own else self.pick(data, [*TENANTS, "no_such_tenant", "*"], "project")
        url = self.WEBHOOK_URLS[0] if data.draw(st.booleans(), label="a good URL") else self.pick(
            data, self.WEBHOOK_URLS, "url")
        events = self.pick(data, [["memory_add", "memory_delete"], ["erasure_person", "erasure_tenant"], ["nope"]],
                           "events")
        resp = self._send(key, "POST", f"/api/v1/webhooks/projects/{quote(slug)}/",
                          body={"name": "attack", "url": url, "event_types": events})
        ok = resp.status == 201
        expected = (self._manages_webhooks(key) and slug == key.tenant and url == self.WEBHOOK_URLS[0]
                    and events != ["nope"])
        self._expect("webhook create", expected, ok, resp, "/api/v1/webhooks/projects/<p>/", key)
        if ok:
            self.webhooks[resp.json()["webhook_id"]] = [key.tenant, url, False]

    @rule(data=st.data())
    def api_webhook_use(self, data: Any) -> None:
        """List, get, update and delete webhooks by id: another tenant's id, a deleted or a made-up
        one is a 404; update and delete need a key that may read and write (403 otherwise)."""
        self._step()
        key = self._key(data, "write", 2)
        action = self.pick(data, ["list", "get", "update", "delete"], "action")
        if action == "list":
            slug = self.pick(data, [*TENANTS, "no_such_tenant"], "project")
            resp = self._send(key, "GET", f"/api/v1/webhooks/projects/{slug}/")
            ok = resp.status == 200
            self._expect("webhook list", self._usable(key, "read") and slug == key.tenant, ok, resp,
                         "/api/v1/webhooks/projects/<p>/", key)
            for hook in resp.json() if ok else []:
                known = self.webhooks.get(hook.get("webhook_id"))
                if known is None or known[0] != key.tenant or known[2] or "secret" in hook:
                    self._violation("unauthorised effect", f"{key!r} listed webhook {hook}", "webhook list")
            return
        known = list(self.webhooks)
        if known and data.draw(st.booleans(), label="a webhook that exists"):
            hook_id = self.pick(data, known, "webhook")
        else:
            hook_id = self.pick(data, [987654321, "abc", -1], "webhook")
        hook = self.webhooks.get(hook_id) if isinstance(hook_id, int) else None
        mine = hook is not None and hook[0] == key.tenant and not hook[2]
        path = f"/api/v1/webhooks/{hook_id}/"
        method = {"get": "GET", "update": "PUT", "delete": "DELETE"}[action]
        new_url = "http://127.0.0.1:9/changed"
        resp = self._send(key, method, path, body={"url": new_url} if action == "update" else None)
        ok = resp.status == 200
        may = self._usable(key, "read") if action == "get" else self._manages_webhooks(key)
        self._expect(f"webhook {action}", may and mine, ok, resp, "/api/v1/webhooks/<id>/", key)
        if ok and hook is not None and action == "update":
            hook[1] = new_url
        if ok and hook is not None and action == "delete":
            hook[2] = True

    @invariant()
    def webhooks_match_the_model(self) -> None:
        from memportal.agents.models import Webhook

        rows = {w.pk: [w.tenant.slug, w.url, w.deleted_at is not None]
                for w in Webhook.objects.select_related("tenant")}
        for pk, row in rows.items():
            if self.webhooks.get(pk) != row:
                self._violation("unauthorised effect", f"webhook {pk} is {row}, the model says "
                                f"{self.webhooks.get(pk)}", "webhook table")
                self.webhooks[pk] = row
        for pk in set(self.webhooks) - set(rows):
            self._violation("unauthorised effect", f"webhook {pk} vanished", "webhook table")
            del self.webhooks[pk]

    # --- portal links ------------------------------------------------------------------------------------
    @precondition(lambda self: bool(self.links))
    @rule(data=st.data())
    def portal_open(self, data: Any) -> None:
        self._step()
        link = self.pick(data, self.links, "link")
        holder = self.pick(data, ["fresh", "anonymous", *(a for a in self._web_actors() if a is not None)], "browser")
        action = self.pick(data, ["look", "continue", "continue_sign_out"], "action")
        identity = None if holder in ("fresh", "anonymous") else holder
        client = Client(raise_request_exception=True) if holder == "fresh" else self._browser(identity)
        valid = (not link.used and self._usable(link.key) and link.person.active)
        path = f"/portal/{link.raw}/"
        resp = self._send(identity, "GET", path, portal=link.person, client=client)
        self._expect("portal look", valid, resp.status == 200, resp, "/portal/<token>/", identity)
        if action == "look":
            return
        already = identity is link.person
        sign_out = action == "continue_sign_out"
        resp = self._send(identity, "POST", path, form={"sign_out": "1"} if sign_out else {}, portal=link.person,
                          client=client, check_identity=False)
        if identity is not None and not already and not sign_out:
            # Someone else is signed in: a live link sends back to its page (which offers to sign
            # out first), a dead one says so; neither may switch the browser's account.
            if (resp.status != 302 or resp.location != path) if valid else resp.status != 410:
                self._violation("account switched", f"a link for {link.person!r} opened in {identity!r}'s "
                                f"browser without 'sign out' answered {resp.status} {resp.location}", "/portal/")
            self._identity_check(identity, client, path)
            return
        ok = resp.status == 302 and resp.location == "/you/"
        self._expect("portal continue", valid, ok, resp, "/portal/<token>/", identity)
        if ok and valid:
            link.used = True
            link.person.user_pk = Membership.objects.get(pk=link.person.member_pk).user_id
            if identity is not None:
                self.browsers.pop(identity, None)
            if holder == "anonymous":
                self.anon = Client(raise_request_exception=True)
            self.browsers[link.person] = client
            self._identity_check(link.person, client, path)
        else:
            self._identity_check(identity, client, path)

    # --- "Your data" -------------------------------------------------------------------------------------
    def _web_actor(self, data: Any) -> Any:
        return self.pick(data, self._web_actors(), "actor")

    @rule(data=st.data())
    def web_list(self, data: Any) -> None:
        """The list (with agent/session filters and paging), the assistant's page, the welcome page."""
        self._step()
        actor = self._web_actor(data)
        page = self.pick(data, ["/you/", "/you/", "/assistant/", "/you/welcome/", "/staff/", "/"], "page")
        if page == "/assistant/":
            params = {"agent": self.pick(data, (*AGENTS, "*"), "agent"), "run": self.pick(data, (*RUNS, "*"), "run")}
        else:
            params = {k: v for k, v in (
                ("agent", self.pick(data, (None, *AGENTS, "*", "nobody"), "agent")),
                ("session", self.pick(data, (None, *RUNS, "*"), "session")),
                ("page", self.pick(data, (None, "2", "x"), "page")),
            ) if v}
        self._send(actor, "GET", page + ("?" + urlencode(params) if params else ""))

    @rule(data=st.data())
    def web_search(self, data: Any) -> None:
        self._step()
        actor = self._web_actor(data)
        params = {"q": self.pick(data, self._query_pool(), "q")}
        if data.draw(st.booleans(), label="agent filter"):
            params["agent"] = self.pick(data, (*AGENTS, "*"), "agent")
        self._send(actor, "GET", "/you/search/?" + urlencode(params), hx=data.draw(st.booleans(), label="htmx"))

    @rule(data=st.data())
    def web_memory(self, data: Any) -> None:
        """Detail, edit (GET/POST) and delete (GET/POST, htmx or not) of any id, own or not."""
        self._step()
        actor = self._web_actor(data)
        mid, mem = self._memory(data, actor)
        action = self.pick(data, ["detail", "edit_form", "edit", "delete_confirm", "delete", "delete_htmx"], "action")
        me = self._live_person(actor)
        own = me is not None and mem is not None and mem.alive and mem.owner is me
        base = f"/you/memories/{quote(mid, safe=':')}/"
        route = _route(base) + action
        if action in ("detail", "edit_form", "delete_confirm"):
            path = base + {"detail": "", "edit_form": "edit/", "delete_confirm": "delete/"}[action]
            resp = self._send(actor, "GET", path)
            self._expect(action, own, resp.status == 200, resp, route, actor)
            return
        if action == "edit":
            text = self._new_text(mem.owner if own else None)
            resp = self._send(actor, "POST", base + "edit/", form={"text": text.full})
            ok = resp.status == 302 and resp.location.startswith("/you/memories/")
            self._expect("edit", own, ok, resp, route, actor)
            if ok and own:
                mem.text = text.full
                mem.versions.append(text.full)
            return
        htmx = action == "delete_htmx"
        resp = self._send(actor, "POST", base + "delete/", hx=htmx)
        ok = resp.status == 200 if htmx else (resp.status == 302 and resp.location.startswith("/you/receipts/"))
        self._expect("delete", own, ok, resp, route, actor)
        if ok and own:
            self._erase([mem], me.tenant)
            self._receipt(resp, me)
            self._scan_erased()

    def _receipt(self, resp: Resp, person: Person | None) -> None:
        found = UUID_RE.search(resp.location) if resp.location.startswith("/you/receipts/") else None
        if found:
            self.receipts.append(Receipt(found.group(0), person))

    @rule(data=st.data())
    def web_erase_scope(self, data: Any) -> None:
        self._step()
        actor = self._web_actor(data)
        key = self.pick(data, ["session", "agent"], "scope")
        me = self._live_person(actor)
        mine = sorted({(m.run if key == "session" else m.agent) or "" for m in self._alive(me)} - {""}) if me else []
        if mine and data.draw(st.booleans(), label="one of theirs"):
            value = self.pick(data, mine, "value")
        else:
            value = self.pick(data, [*(RUNS if key == "session" else AGENTS), "*", "", "nobody"], "value")
        method = self.pick(data, ["GET", "POST"], "method")
        doomed = self._alive(me, agent=value if key == "agent" else None,
                             run=value if key == "session" else None) if me and value not in ("*", "") else []
        path = f"/you/erase/{key}/"
        if method == "GET":
            resp = self._send(actor, "GET", path + "?" + urlencode({key: value}))
            self._expect(f"erase {key} confirm", bool(doomed), resp.status == 200, resp, path, actor)
            return
        resp = self._send(actor, "POST", path, form={key: value})
        ok = resp.status == 302 and resp.location.startswith("/you/receipts/")
        self._expect(f"erase {key}", bool(doomed), ok, resp, path, actor)
        if ok and doomed:
            self._erase(doomed, me.tenant)
            self._receipt(resp, me)
            self._scan_erased()

    def _reauth(self, actor: Any) -> bool:
        """allauth's re-authentication (password), at most once per browser per example."""
        if actor is None:
            return False
        client = self._browser(actor)
        if getattr(client, "reauthed", False):
            return True
        if isinstance(actor, Person) and actor.kind == "app":
            return True  # a portal user has no password: allauth has nothing to ask
        resp = self._send(actor, "POST", "/accounts/reauthenticate/", form={"password": PASSWORD})
        client.reauthed = resp.status == 302
        return client.reauthed

    def _fresh_auth(self, actor: Any) -> bool:
        if actor is None:
            return False
        if isinstance(actor, Person) and actor.kind == "app":
            return True
        return bool(getattr(self._browser(actor), "reauthed", False))

    @rule(data=st.data())
    def web_erase_all(self, data: Any) -> None:
        self._step()
        actor = self._web_actor(data)
        if data.draw(st.booleans(), label="re-authenticate first"):
            self._reauth(actor)
        phrase = self.pick(data, [ERASE_ALL_PHRASE, "delete", ""], "phrase")
        me = self._live_person(actor)
        # The current app's, or one app's from "Your apps" (/you/apps/<app_id>/erase/: only one's own).
        slug = self.pick(data, [None, *TENANTS, "*", "nope"], "app")
        path = "/you/erase/everything/" if slug is None else f"/you/apps/{quote(slug)}/erase/"
        expected = (me is not None and self._fresh_auth(actor) and phrase == ERASE_ALL_PHRASE
                    and slug in (None, me.tenant))
        doomed = self._alive(me) if me else []
        resp = self._send(actor, "POST", path, form={"confirm": phrase})
        ok = resp.status == 302 and resp.location.startswith("/you/receipts/")
        self._expect("erase everything", expected, ok, resp, _route(path), actor)
        if ok and expected:
            self._erase(doomed, me.tenant)
            self._receipt(resp, me)
            self._scan_erased()

    @rule(data=st.data())
    def web_account_delete(self, data: Any) -> None:
        """A person deletes their account (staff and superusers keep theirs: see docs/security.md)."""
        self._step()
        actor = self.pick(data, [None, *self._people_with_browsers()], "actor")
        if data.draw(st.booleans(), label="re-authenticate first"):
            self._reauth(actor)
        phrase = self.pick(data, [DELETE_ACCOUNT_PHRASE, "delete everything"], "phrase")
        expected = actor is not None and self._fresh_auth(actor) and phrase == DELETE_ACCOUNT_PHRASE
        client = self._browser(actor)
        resp = self._send(actor, "POST", "/you/account/delete/", form={"confirm": phrase}, check_identity=False)
        ok = resp.status == 302 and resp.location.startswith("/you/account/deleted/")
        self._expect("account deletion", expected, ok, resp, "/you/account/delete/", actor)
        if not (ok and expected):
            if actor is not None:
                self._identity_check(actor, client, "/you/account/delete/")
            return
        if actor.active and actor.tenant not in self.offboarded:
            self._erase(self._alive(actor), actor.tenant)
            actor.state = "ended"
        else:
            actor.deleted_without_membership = True
        actor.ids_erased = True
        actor.account_deleted = True
        self.browsers.pop(actor, None)
        self._identity_check(None, client, "/you/account/delete/")
        self._send(None, "GET", "/you/account/deleted/", client=client)
        self._scan_erased()

    @rule(data=st.data())
    def web_sign_in_elsewhere(self, data: Any) -> None:
        """The person signs in on another device too: a session erasure must find (an account deletion
        must end) every one of them."""
        self._step()
        people = [p for p in self._people_with_browsers() if p.kind != "app"]
        if people:
            person = self.pick(data, people, "person")
            client = self._sign_in(person)
            self._send(person, "GET", "/you/", client=client)
            self.other_devices.append(client)

    @rule(data=st.data())
    def web_download(self, data: Any) -> None:
        self._step()
        self._send(self._web_actor(data), "GET", "/you/download/")

    @rule(data=st.data())
    def web_pause(self, data: Any) -> None:
        self._step()
        actor = self._web_actor(data)
        paused = data.draw(st.booleans(), label="pause")
        me = self._live_person(actor)
        resp = self._send(actor, "POST", "/you/pause/", form={"paused": "1" if paused else "0"})
        ok = resp.status == 302 and resp.location == "/you/pause/"
        self._expect("pause", me is not None, ok, resp, "/you/pause/", actor)
        if ok and me is not None:
            me.paused = paused

    @rule(data=st.data())
    def web_app_control(self, data: Any) -> None:
        """"Your apps": a person stops or resumes an app remembering them or reading their memories;
        only their own app (anyone else's app_id, or a made-up one, is 404 and changes nothing)."""
        self._step()
        # Mostly a person an app named (signed in by a portal link: the stops matter to keys) or
        # anyone with a live membership; else anyone at all.
        named = [p for p in self._people_with_browsers() if p.kind == "app" and p.active]
        live = [a for a in self._web_actors() if self._live_person(a) is not None]
        who = self.pick(data, ["named", "named", "live", "anyone"], "who")
        pool = (named if who == "named" else []) or (live if who != "anyone" else [])
        actor = self.pick(data, pool, "actor") if pool else self._web_actor(data)
        if data.draw(st.booleans(), label="open the page first"):
            self._send(actor, "GET", "/you/apps/")
        me = self._live_person(actor)
        own = me is not None and data.draw(st.booleans(), label="their own app")
        slug = me.tenant if own else self.pick(data, [*TENANTS, "*", "nope"], "app")
        which = self.pick(data, ["reading", "remembering"], "control")
        stopped = self.pick(data, ["1", "1", "0", "yes"], "stopped")
        path = f"/you/apps/{quote(slug)}/{which}/"
        resp = self._send(actor, "POST", path, form={"stopped": stopped})
        ok = resp.status == 302 and resp.location.startswith("/you/apps/")
        self._expect(f"stop {which}", me is not None and me.tenant == slug and stopped in ("0", "1"), ok, resp,
                     _route(path), actor)
        if ok and me is not None:
            STATS["outcomes"][f"stop {which}={stopped} by a person of kind {me.kind}"] += 1
            if which == "reading":
                me.reads_stopped = stopped == "1"
            else:
                me.paused = stopped == "1"
            if me.kind == "app" and me.external_id:
                self._app_probe(data, me, which)

    def _app_probe(self, data: Any, person: Person, which: str) -> None:
        """Right after a stop or resume, the person's app tries: a read naming them or naming nobody
        (checked by (a)/(c)/(d) like any read), or an add for them (423 while they stopped it)."""
        names = ("ro", "rw", "cli") if which == "reading" else ("wo", "rw", "cli")
        key = self.pick(data, [k for k in self.keys if k.tenant == person.tenant and k.active
                               and k.label.rsplit(":", 1)[1] in names], "key")
        if which == "reading":
            flt = self.pick(data, [{"user_id": person.external_id}, {"user_id": "*"}, {"agent_id": AGENTS[1]},
                                   {"OR": [{"user_id": person.external_id}, {"run_id": RUNS[1]}]}], "filters")
            path = self.pick(data, ["/v2/memories/", "/v2/memories/search/", "/v1/exports/get/"], "path")
            body = {"filters": flt, **({"query": "secret"} if "search" in path else {})}
            resp = self._send(key, "POST", path, body=body)
            named = "user_id" in json.dumps(flt) and person.external_id in json.dumps(flt)
            self._expect_locked("read naming them", self._usable(key, "read") and named and person.reads_stopped,
                                resp, _route(path), key)
        elif self._usable(key, "write"):
            text = self._new_text(None if person.paused else person)
            resp = self._send(key, "POST", "/v1/memories/",
                              body={"messages": text.full, "user_id": person.external_id, "infer": False})
            self._expect_locked("add", person.paused, resp, "/v1/memories/", key)
            ok = resp.status == 200
            self._expect("add", not person.paused, ok, resp, "/v1/memories/", key)
            if ok and not person.paused:
                for item in (resp.json() or {}).get("results", []):
                    if item.get("event") == "ADD" and item.get("memory") == text.full:
                        self.mems[item["id"]] = Mem(item["id"], person, text.full, [text.full], None, None)

    @rule(data=st.data())
    def web_who_looked(self, data: Any) -> None:
        self._step()
        people = [p for p in self.persons if p.lookers and p.user_pk and not p.account_deleted
                  and p.active and p.tenant not in self.offboarded]
        if people:
            self._who_looked_check(self.pick(data, people, "person"))
        else:
            self._send(self._web_actor(data), "GET", "/you/who-looked/")

    @rule(data=st.data())
    def web_assistant(self, data: Any) -> None:
        self._step()
        actor = self._web_actor(data)
        agent = self.pick(data, [*AGENTS, "*"], "agent")
        run = self.pick(data, [*RUNS, "*"], "run")
        me = self._live_person(actor)
        expected = me is not None and not me.paused and agent in AGENTS[:2] and run != "*"
        text = self._new_text(me if expected else None)
        self._send(actor, "POST", "/assistant/turn/", form={"agent": agent, "run_id": run, "message": text.full},
                   hx=data.draw(st.booleans(), label="htmx"))
        stored = [(mid, row) for mid, row in memory_rows().items() if row[0] == text.full]
        if expected and len(stored) == 1 and stored[0][1][1] == me.subject_id:
            mid = stored[0][0]
            self.mems[mid] = Mem(mid, me, text.full, [text.full], agent, run)
        elif expected:
            self._violation("model: refused", f"assistant turn as {actor!r} stored {len(stored)} rows",
                            "/assistant/turn/")

    @rule(data=st.data())
    def web_receipt(self, data: Any) -> None:
        self._step()
        actor = self._web_actor(data)
        receipt = self.pick(data, [*self.receipts, Receipt(str(uuid.UUID(int=5)), None)], "receipt")
        signed = data.draw(st.booleans(), label="signed")
        path = f"/you/receipts/{receipt.id}/" + ("signed.json" if signed else "")
        resp = self._send(actor, "GET", path)
        superuser = isinstance(actor, Operator) and actor.superuser  # admins hold every receipt (access.py)
        if resp.status == 200 and receipt.person is not None and not (
                self._same_user(actor, receipt.person) or superuser):
            self._violation("unauthorised effect", f"{actor!r} opened {receipt!r}", _route(path))

    @rule(data=st.data())
    def web_switch_app(self, data: Any) -> None:
        self._step()
        actor = self._web_actor(data)
        self._send(actor, "POST", "/you/app/", form={"tenant": self.pick(data, [*TENANTS, "*", ""], "tenant")})

    # --- issue 12: what the agent sees, auto-delete, delete by date, import ---------------------------------
    @rule(data=st.data())
    def web_agent_view(self, data: Any) -> None:
        """The person's view of an app's API search: only their own apps, only their own memories."""
        self._step()
        actor = self._web_actor(data)
        me = self._live_person(actor)
        slug = self.pick(data, [*TENANTS, "", "*", "nope"], "app")
        mine = [m for m in self.mems.values() if m.alive and me is not None and m.owner is me]
        others = [m for m in self.mems.values() if m.alive and (me is None or m.owner is not me)]
        query = self.pick(data, [m.text for m in mine + others] or ["anything"], "query")
        resp = self._send(actor, "GET", "/you/agent-view/?" + urlencode({"app": slug, "q": query}))
        if resp.status == 200 and slug and (me is None or slug != me.tenant):
            self._violation("unauthorised effect", f"{actor!r} searched app {slug!r} as its agent", "/you/agent-view/")

    @rule(data=st.data())
    def web_auto_delete(self, data: Any) -> None:
        """A person's auto-delete choice (own apps only), then the nightly job: every memory here is
        minutes old, so it must erase nothing (the memory-table invariant checks)."""
        self._step()
        actor = self._web_actor(data)
        me = self._live_person(actor)
        slug = self.pick(data, [me.tenant if me else TENANTS[0], *TENANTS, "", "*"], "app")
        choice = self.pick(data, ["3", "18", "36", "0", "default", "7", ""], "retention")
        resp = self._send(actor, "POST", "/you/auto-delete/", form={"tenant": slug, "retention": choice})
        expected = me is not None and slug == me.tenant and choice in {"3", "18", "36", "0", "default"}
        self._expect("auto-delete choice", expected, resp.status == 302 and resp.location == "/you/auto-delete/",
                     resp, "/you/auto-delete/", actor)
        from memportal.memory.retention import retention_run

        if retention_run():
            self._violation("unauthorised effect", "the auto-delete job erased memories minutes old", "retention job")

    @rule(data=st.data())
    def staff_default_auto_delete(self, data: Any) -> None:
        self._step()
        actor = self._web_actor(data)
        slug = self.pick(data, [*TENANTS, "nope"], "tenant")
        months = self.pick(data, ["0", "3", "18", "36", "5"], "months")
        resp = self._send(actor, "POST", f"/staff/{slug}/retention/", form={"retention_months": months})
        expected = self._audits(actor, slug) and months != "5"
        ok = resp.status == 302 and resp.location == f"/staff/{slug}/retention/"
        self._expect("tenant default auto-delete", expected, ok, resp, "/staff/<slug>/retention/", actor)

    @rule(data=st.data())
    def web_erase_range(self, data: Any) -> None:
        """Delete by date: everything here was saved minutes ago, so "last hour/day" erases all the
        person's memories in that app, only with fresh authentication, only in their own app."""
        self._step()
        actor = self._web_actor(data)
        if data.draw(st.booleans(), label="re-authenticate first"):
            self._reauth(actor)
        me = self._live_person(actor)
        slug = self.pick(data, [me.tenant if me else TENANTS[0], *TENANTS, "*"], "app")
        period = self.pick(data, ["hour", "day", "custom", "week"], "period")
        doomed = self._alive(me) if me else []
        resp = self._send(actor, "POST", "/you/erase/range/",
                          form={"tenant": slug, "period": period, "confirm": "1"})
        expected = (me is not None and self._fresh_auth(actor) and slug == me.tenant and period in ("hour", "day"))
        ok = resp.status == 302 and (resp.location.startswith("/you/receipts/") or resp.location == "/you/erase/range/")
        self._expect("delete by date", expected, ok, resp, "/you/erase/range/", actor)
        if ok and expected:
            self._erase(doomed, me.tenant)
            self._receipt(resp, me)
            self._scan_erased()

    @rule(data=st.data())
    def web_import(self, data: Any) -> None:
        """Preview an import (stores nothing), then confirm with the preview's token, a forged one, or
        not at all: only the person's own confirmed preview, into their own app, is stored."""
        self._step()
        actor = self._web_actor(data)
        me = self._live_person(actor)
        slug = self.pick(data, [me.tenant if me else TENANTS[0], *TENANTS, "*"], "app")
        text = self._new_text(me if me is not None and slug == me.tenant else None)
        resp = self._send(actor, "POST", "/you/import/", form={"tenant": slug, "text": "- " + text.full})
        previewed = resp.status == 200 and 'name="token"' in resp.text
        self._expect("import preview", me is not None and slug == me.tenant, previewed, resp, "/you/import/", actor)
        how = self.pick(data, ["confirm", "forged", "leave"], "confirm")
        if how == "leave":
            return
        found = re.search(r'name="token" value="([^"]+)"', resp.text)
        token = found.group(1) if found and how == "confirm" else "forged-token"
        self._send(actor, "POST", "/you/import/confirm/", form={"token": token})
        stored = [(mid, row) for mid, row in memory_rows().items() if row[0] == text.full]
        expected = previewed and how == "confirm" and me is not None and not me.paused
        if expected and len(stored) == 1 and stored[0][1][1] == me.subject_id:
            self.mems[stored[0][0]] = Mem(stored[0][0], me, text.full, [text.full], None, None)
        elif expected:
            self._violation("model: refused", f"import as {actor!r} stored {len(stored)} rows", "/you/import/confirm/")

    # --- staff ---------------------------------------------------------------------------------------------
    def _audit_params(self, data: Any, slug: str, export: bool = False) -> list[tuple[str, str]]:
        """The audit filter: half the time values the tenant has (a valid form), else anything
        (another tenant's people, unknown agents, "*", a repeated parameter)."""
        params: list[tuple[str, str]] = []
        if data.draw(st.booleans(), label="tenant's own filter values"):
            alive = [m for m in self.mems.values() if m.alive and m.owner.tenant == slug]
            people = [p.subject_id for p in self.persons if p.tenant == slug and p.subject_id]  # model order:
            # subject ids are random, so sorting them would make the drawn person differ between replays
            choices = {"person": [None, "any", *people], "agent": [None, "any", *sorted({m.agent for m in alive
                       if m.agent})], "session": [None, "any", *sorted({m.run for m in alive if m.run})]}
        else:
            subjects = [p.subject_id for p in self.persons if p.subject_id]
            # People by label too (email, the app's id, any case), the other tenant's included:
            # resolved inside the tenant or refused, never a wider filter.
            labels = [i for p in self.persons for i in p.identifiers() if p.state != "absent" and (
                not export or p.tenant == slug)]  # (an export keeps its filter: only its own tenant's)
            choices = {"person": [None, "any", "*", *subjects, *labels, *(i.upper() for i in labels[:2])],
                       "agent": [None, "any", *AGENTS, "zzz"], "session": [None, "any", *RUNS, "*"]}
        for name, pool in choices.items():
            value = self.pick(data, pool, name)
            if value:
                params.append((name, value))
        if params and data.draw(st.integers(0, 7), label="repeat a parameter") == 0:
            params.append(params[0])
        # What staff type is kept with a background export until it runs (then only as a hash), and
        # shown on its page: so they type words, other people's labels, and the tenant's own live texts
        # (whole, or the token), never a token of someone they may not see (that would be a test artifact).
        own = [t for t in self.texts.values() if t.owner and t.owner.tenant == slug and not t.erased]
        words = ["secret", "food preferences", *(p.label for p in self.persons[:4])]
        q = self.pick(data, [None, None, *words, *(t.token for t in own[-4:]), *(t.full for t in own[-2:])], "q")
        if q:
            params.append(("q", q))
            params.append(("mode", self.pick(data, ["text", "semantic"], "mode")))
        if not export:
            size = self.pick(data, [None, "25", "200", "7"], "page_size")
            if size:
                params.append(("page_size", size))
        return params

    def _staff_and_slug(self, data: Any) -> tuple[Any, str]:
        """Half the time someone who audits the tenant (its staff, or a superuser), else anyone and
        any slug (another tenant's, one that does not exist)."""
        live = [s for s in TENANTS if s not in self.offboarded]
        if live and data.draw(st.booleans(), label="someone who audits it"):
            slug = self.pick(data, live, "slug")
            return self.pick(data, [op for op in self.operators if self._audits(op, slug)], "operator"), slug
        return self._staff_actor(data), self.pick(data, [*TENANTS, "nope"], "slug")

    def _staff_actor(self, data: Any) -> Any:
        """Staff and superusers most of the time; anyone else to be refused."""
        if data.draw(st.integers(0, 3), label="stranger") == 0:
            return self._web_actor(data)
        return self.pick(data, self.operators, "operator")

    @rule(data=st.data())
    def staff_audit(self, data: Any) -> None:
        self._step()
        actor, slug = self._staff_and_slug(data)
        params = self._audit_params(data, slug)
        path = f"/staff/{slug}/" + ("?" + urlencode(params) if params else "")
        resp = self._send(actor, "GET", path)
        if resp.status == 200 and not self._audits(actor, slug):
            self._violation("unauthorised effect", f"{actor!r} opened the audit of {slug}", "/staff/<slug>/")

    @rule(data=st.data())
    def staff_look(self, data: Any) -> None:
        """What staff do most: open their tenant's audit page, maybe for one person (a plain read)."""
        self._step()
        live = [s for s in TENANTS if s not in self.offboarded]
        slug = self.pick(data, live or TENANTS, "slug")
        actor = self.pick(data, [op for op in self.operators if op.superuser or op.tenant == slug], "operator")
        people = [p for p in self.persons if p.tenant == slug and p.subject_id]
        person = self.pick(data, [None, *people], "person")
        query = {"person": person.subject_id} if person else {}
        if data.draw(st.booleans(), label="semantic search"):
            query.update(q=self.pick(data, ["secret", "food preferences", "travel"], "q"), mode="semantic")
        self._send(actor, "GET", f"/staff/{slug}/" + ("?" + urlencode(query) if query else ""))

    @rule(data=st.data())
    def staff_lookup(self, data: Any) -> None:
        """The filter fields' suggestions (labels and ids, never text): only the tenant's own."""
        self._step()
        actor, slug = self._staff_and_slug(data)
        kind = self.pick(data, ["person", "person", "agent", "session", "memory"], "kind")
        prefixes = ["", "ca", "sb", "s_", "CA_", "x", "%", "_", *(i[:4] for p in self.persons[:6] for i in
                                                                     p.identifiers())]
        prefix = self.pick(data, prefixes, "prefix")
        resp = self._send(actor, "GET", f"/staff/{slug}/lookup/{kind}/?" + urlencode({"q": prefix}))
        if resp.status == 200 and not self._audits(actor, slug):
            self._violation("unauthorised effect", f"{actor!r} got {slug}'s {kind} suggestions",
                            "/staff/<slug>/lookup/")

    @rule(data=st.data())
    def staff_trespass(self, data: Any) -> None:
        """Someone who does not audit a tenant (the other tenant's staff, its people, a stranger) tries
        its staff pages: the audit, a search, both exports, the keys page, the offboarding page."""
        self._step()
        slug = self.pick(data, TENANTS, "slug")
        actor = self.pick(data, [a for a in self._web_actors() if not self._audits(a, slug)
                                 and not (isinstance(a, Operator) and a.superuser)], "trespasser")
        page = self.pick(data, [f"/staff/{slug}/", f"/staff/{slug}/?q=secret&mode=semantic",
                                f"/staff/{slug}/export/?fmt=jsonl", f"/staff/{slug}/export/?fmt=csv&person=any",
                                f"/staff/{slug}/lookup/person/?q=", f"/api/keys/?tenant={slug}",
                                f"/offboarding/tenants/{slug}/", "/staff/"], "page")
        if data.draw(st.integers(0, 3), label="start a background export") == 0:
            resp = self._send(actor, "POST", f"/staff/{slug}/export/jobs/", form={"fmt": "jsonl"})
            if resp.status == 302 and resp.location.startswith(f"/staff/{slug}/export/jobs/"):
                self._violation("unauthorised effect", f"{actor!r} started an export of {slug}", "/staff/export/jobs/")
            return
        resp = self._send(actor, "GET", page)
        audits_some = any(self._audits(actor, t) for t in TENANTS)
        if resp.status == 200 and (not audits_some if page == "/staff/" else slug not in self.offboarded):
            self._violation("unauthorised effect", f"{actor!r} opened {page} (HTTP 200)", _route(page))

    @rule(data=st.data())
    def staff_export(self, data: Any) -> None:
        """The streamed export (GET) or a background export (POST), with the audit's filters."""
        self._step()
        actor, slug = self._staff_and_slug(data)
        params = [("fmt", self.pick(data, ["jsonl", "csv", "xml"], "fmt")), *self._audit_params(data, slug, True)]
        if data.draw(st.booleans(), label="background"):
            resp = self._send(actor, "POST", f"/staff/{slug}/export/jobs/", form=urlencode(params))
            started = resp.status == 302 and resp.location.startswith(f"/staff/{slug}/export/jobs/")
            found = UUID_RE.search(resp.location) if started else None
            if found and self._audits(actor, slug):
                self.jobs.append(ExportJob(found.group(0), slug, actor, typed=dict(params).get("q", "")))
            elif started:
                self._violation("unauthorised effect", f"{actor!r} started an export of {slug}", "/staff/export/jobs/")
            return
        resp = self._send(actor, "GET", f"/staff/{slug}/export/?" + urlencode(params))
        if resp.status == 200 and not self._audits(actor, slug):
            self._violation("unauthorised effect", f"{actor!r} exported {slug}", "/staff/<slug>/export/")

    @rule(data=st.data())
    def staff_background_export(self, data: Any) -> None:
        """Staff of a tenant (or a superuser) queue a file export of it; the worker writes it later."""
        self._step()
        slug = self.pick(data, TENANTS, "slug")
        actor = self.pick(data, [op for op in self.operators if op.superuser or op.tenant == slug], "operator")
        params = [("fmt", self.pick(data, ["jsonl", "csv"], "fmt"))]
        if data.draw(st.booleans(), label="filtered"):
            params += self._audit_params(data, slug, True)
        resp = self._send(actor, "POST", f"/staff/{slug}/export/jobs/", form=urlencode(params))
        started = resp.status == 302 and resp.location.startswith(f"/staff/{slug}/export/jobs/")
        if started and self._audits(actor, slug):
            self.jobs.append(ExportJob(UUID_RE.search(resp.location).group(0), slug, actor,
                                       typed=dict(params).get("q", "")))
        elif started:
            self._violation("unauthorised effect", f"{actor!r} started an export of {slug}", "/staff/export/jobs/")

    @precondition(lambda self: any(j.state == "queued" for j in self.jobs + self.delete_jobs))
    @rule(data=st.data())
    def worker_again(self, data: Any) -> None:
        """The worker, twice as often while exports wait (files are what erasure must chase)."""
        self.worker(data)

    @precondition(lambda self: bool(self.jobs))
    @rule(data=st.data())
    def staff_export_job(self, data: Any) -> None:
        self._step()
        finished = [j for j in self.jobs if j.state == "done"]
        if finished and data.draw(st.booleans(), label="a finished file, by someone who may fetch it"):
            job = self.pick(data, finished, "job")
            actor, view, slug = self.pick(data, [job.requester, self.root], "actor"), "download", job.tenant
        else:
            actor = self._staff_actor(data)
            job = self.pick(data, self.jobs, "job")
            view = self.pick(data, ["download", "download", "detail", "progress"], "view")
            slug = job.tenant if data.draw(st.integers(0, 4), label="other slug") else next(
                s for s in TENANTS if s != job.tenant)
        path = f"/staff/{slug}/export/jobs/{job.id}/" + ("" if view == "detail" else f"{view}/")
        resp = self._send(actor, "GET", path, job=job.id, echo=job.typed)
        STATS["outcomes"][f"export job {view}: {'done' if resp.status == 200 else 'refused'}"] += 1
        if view == "download" and resp.status == 200:
            may = self._audits(actor, slug) and slug == job.tenant and (actor is job.requester or actor.superuser)
            if not may or job.state != "done":
                self._violation("unauthorised effect", f"{actor!r} downloaded {job!r} via {slug}",
                                "/staff/export/jobs/download/")

    @precondition(lambda self: any(j.state == "queued" for j in self.jobs) or bool(self.offboarding_queued)
                  or any(j.state == "queued" for j in self.delete_jobs))
    @rule(data=st.data())
    def worker(self, data: Any) -> None:
        """One pass of the background worker (the queue's task bodies, run here): an export job, a
        tenant-wide delete, or an offboarding run to its end."""
        self._step()
        choices = (["export"] if any(j.state == "queued" for j in self.jobs) else []) + (
            ["offboarding"] if self.offboarding_queued else []) + (
            ["delete"] if any(j.state == "queued" for j in self.delete_jobs) else [])
        work = self.pick(data, choices, "work")
        if work == "delete":
            self._tenant_delete_run(next(j for j in self.delete_jobs if j.state == "queued"))
            return
        if work == "export":
            row = export_job_claim()
            if row is None:
                self._violation("model", "a queued export was not claimable", "worker")
                return
            export_job_process(job=row)
            STATS["outcomes"]["worker: export"] += 1
            job = next((j for j in self.jobs if j.id == str(row.pk)), None)
            state = ExportJobRow.objects.get(pk=row.pk).state
            STATS["outcomes"][f"worker: export {state}"] += 1
            if job is None or job.state != "queued":
                self._violation("unauthorised effect", f"the worker ran {job!r} (db {state})", "worker")
            elif state == "done":
                job.state = "done"
            return
        slug = sorted(self.offboarding_queued)[0]
        job = OffboardingJob.objects.filter(tenant__slug=slug, state="queued").order_by("created_at").first()
        memberships = self.offboarding_queued.pop(slug)
        if job is None:
            self._violation("model", f"no queued offboarding for {slug}", "worker")
            return
        done = offboarding_run(job=job)
        STATS["outcomes"]["worker: offboarding"] += 1
        if done.state != "done":
            self._violation("(b) offboarding unverified", f"{slug}: {done.state} {done.error} {done.verification}",
                            "offboarding")
        self._offboard(slug, end=memberships == "end")

    def _offboard(self, slug: str, *, end: bool) -> None:
        """Every memory of the tenant goes; with ``end``, every membership ends and the app's ids for
        its people go too ("keep": accounts and memberships stay, the tenant is closed)."""
        self.offboarded.add(slug)
        self._erase([m for m in self.mems.values() if m.alive and m.owner.tenant == slug], slug)
        for p in self.persons:
            if p.tenant == slug and p.state == "active" and end:
                p.state = "ended"
            if p.tenant == slug and p.kind == "app" and p.state == "ended":
                p.ids_erased = True
        self._scan_erased()

    # --- keys page, offboarding pages ------------------------------------------------------------------
    @rule(data=st.data())
    def keys_page(self, data: Any) -> None:
        self._step()
        actor, slug = self._staff_and_slug(data)
        action = self.pick(data, ["list", "create", "revoke"], "action")
        if action == "list":
            self._send(actor, "GET", "/api/keys/?" + urlencode({"tenant": slug}))
            return
        if action == "revoke":
            key = self.pick(data, self.keys, "key")
            resp = self._send(actor, "POST", f"/api/keys/{key.pk}/revoke/")
            ok = resp.status == 302 and resp.location.startswith("/api/keys/")
            may = self._audits(actor, key.tenant) and ("tenant_admin" not in key.perms or actor.superuser)
            self._expect("revoke", may, ok, resp, "/api/keys/<pk>/revoke/", actor)
            if ok and may:
                key.active = False
            return
        perms = {p: data.draw(st.booleans(), label=p) for p in ("can_read", "can_write", "can_admin")}
        self.web_keys += 1
        form = {"tenant": slug, "name": f"web key {self.web_keys}", **{k: "on" for k, v in perms.items() if v}}
        resp = self._send(actor, "POST", "/api/keys/", form=form)
        raw = KEY_RE.search(resp.text) if resp.status == 200 else None
        superuser = isinstance(actor, Operator) and actor.superuser
        granted = {"read"} if perms["can_read"] else set()
        granted |= {"write"} if perms["can_write"] else set()
        granted |= {"tenant_admin"} if perms["can_admin"] and superuser else set()
        expected = self._audits(actor, slug) and bool(granted)
        self._expect("create key", expected, raw is not None, resp, "/api/keys/", actor)
        if raw and expected:
            row = AppKey.objects.get(prefix=raw.group(0).split("_")[1])
            got = set(row.permissions)
            if got != granted or row.tenant.slug != slug:
                self._violation("unauthorised effect", f"{actor!r} asked for {sorted(granted)} in {slug}, got "
                                f"{sorted(got)} in {row.tenant.slug}", "/api/keys/")
            self.keys.append(Key(f"{SHORT[slug]}:web{self.web_keys}", slug, frozenset(got),
                                 "web-superuser" if superuser else "web-staff", raw.group(0), row.prefix, row.pk))

    @rule(data=st.data())
    def offboarding_pages(self, data: Any) -> None:
        self._step()
        actor, slug = self._staff_and_slug(data)
        page = self.pick(data, ["/offboarding/", f"/offboarding/tenants/{slug}/",
                                f"/offboarding/jobs/{uuid.UUID(int=7)}/"], "page")
        resp = self._send(actor, "GET", page)
        if resp.status == 200 and not (isinstance(actor, Operator) and actor.superuser):
            self._violation("unauthorised effect", f"{actor!r} opened {page}", _route(page))

    @rule(data=st.data())
    def web_offboard(self, data: Any) -> None:
        """The superuser's offboarding form: re-authenticate, type the app_id, start."""
        self._step()
        actor = self._staff_actor(data)
        slug = self.pick(data, TENANTS, "slug")
        if data.draw(st.booleans(), label="re-authenticate first"):
            self._reauth(actor)
        self._send(actor, "GET", f"/offboarding/tenants/{slug}/confirm/")
        typed = self.pick(data, ["wrong", next(s for s in TENANTS if s != slug), "", f" {slug.upper()} ", slug],
                          "typed")
        memberships = self.pick(data, ["end", "end", "keep", "bogus"], "memberships")
        resp = self._send(actor, "POST", f"/offboarding/tenants/{slug}/start/",
                          form={"confirm": typed, "memberships": memberships})
        ok = resp.status == 302 and resp.location.startswith("/offboarding/jobs/")
        superuser = isinstance(actor, Operator) and actor.superuser
        expected = superuser and self._fresh_auth(actor) and typed.strip() == slug and memberships != "bogus"
        if slug in self.offboarded or slug in self.offboarding_queued:
            return  # the job already queued answers; a second one for an offboarded tenant finds nothing
        self._expect("offboarding start", expected, ok, resp, "/offboarding/tenants/<slug>/start/", actor)
        if ok and expected:
            self.offboarding_queued[slug] = memberships


def run_machine(settings: Any, export_dir: Path, *, examples: int = EXAMPLES, steps: int = STEPS,
                collect: bool = COLLECT, summary_path: str = SUMMARY) -> dict[str, Any]:
    """Run the machine (``examples`` fresh worlds of ``steps`` steps); the summary of what it found.

    ``collect``: record violations and go on (bench.attack, the meta-tests); else the first one
    fails the run and Hypothesis prints the program that led to it."""
    global COLLECT
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEMPORTAL = {**settings.MEMPORTAL, "API_RATE_LIMIT": 10**9}
    AttackMachine.export_dir = export_dir
    AttackMachine.tables = app_tables()
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if SHRINK else [])
    started = time.monotonic()
    STATS.update(steps=0, examples=0, requests=0, violations=Counter(), known=Counter(), samples={}, rules=Counter(),
                 outcomes=Counter())
    saved, COLLECT = COLLECT, collect
    try:
        run_state_machine_as_test(AttackMachine, settings=hsettings(
            max_examples=examples, stateful_step_count=steps, deadline=None, derandomize=not RANDOM,
            database=None, phases=phases, verbosity=Verbosity.normal, print_blob=False,
            suppress_health_check=list(HealthCheck),
        ))
    finally:
        COLLECT = saved
        summary = {
            "steps": STATS["steps"], "examples": STATS["examples"], "requests": STATS.get("requests", 0),
            "steps_per_example": steps, "seconds": round(time.monotonic() - started, 1),
            "violations": sum(STATS["violations"].values()),
            "violation_kinds": dict(STATS["violations"]), "samples": STATS["samples"],
            "known_bugs": dict(STATS["known"]), "rules": dict(sorted(STATS["rules"].items())),
            "outcomes": dict(sorted(STATS["outcomes"].items())),
        }
        if summary_path:
            Path(summary_path).write_text(json.dumps(summary, indent=2))
    return summary


@pytest.mark.django_db(transaction=True)
def test_attack_state_machine(settings, export_dir):
    """Every actor against every route; invariants (a), (b), (c) after every step (CI: bounded,
    derandomized; ``python -m bench.attack`` for the long run)."""
    summary = run_machine(settings, export_dir)
    assert not summary["violations"], json.dumps(summary, indent=2)
