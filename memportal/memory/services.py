"""Writes: add, correct, delete, erase, pause. Each takes the acting membership.

Every write runs inside one transaction on the Django connection that mem0's store also uses
(see mem0_backend), so a memory, its history rows and an erasure receipt commit or fail together.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from memportal import erasure

from . import inference, selectors
from .bulk import NewMemory, memories_write
from .errors import InvalidInput, MembershipEnded, MemoryNotFound, MemoryPaused
from .mem0_backend import embed_for_add, embeddings_prefetched, get_memory, history_scope, llm_configured
from .models import ErasureReceipt, Membership, Tenant
from .records import TABLE, MemoryRecord
from .validation import clean_messages, clean_metadata, clean_optional_id, clean_text
from .versions import person_data_version_bump

logger = logging.getLogger(__name__)


def _require_writable(member: Membership) -> None:
    """Refuse writes for a paused or ended membership or an offboarded tenant, and hold them so.

    Call inside the write's transaction. FOR SHARE keeps the membership and tenant rows as read
    until the write commits: ``membership_end``, ``memory_pause_set`` and the offboarding start
    update those rows, so they wait for in-flight writes, and any write after them sees the
    change. Without it, a memory added while an erasure runs could commit after it and survive.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.memory_paused, m.ended_at, t.offboarded_at FROM {Membership._meta.db_table} m "
            f"JOIN {Tenant._meta.db_table} t ON t.id = m.tenant_id WHERE m.id = %s FOR SHARE",
            [member.pk],
        )
        state = cursor.fetchone()
    if state is None or state[1] is not None or state[2] is not None:
        raise MembershipEnded()
    if state[0]:
        raise MemoryPaused()


def _write_scope(
    member: Membership, agent_id: Any, run_id: Any, metadata: Any
) -> tuple[str | None, str | None, dict[str, Any]]:
    """The agent, session and metadata a write carries; app_id always comes from the membership."""
    agent = clean_optional_id(agent_id, field="agent_id")
    run = clean_optional_id(run_id, field="run_id")
    return agent, run, {**clean_metadata(metadata), "app_id": member.tenant.slug}


def memory_add(
    *,
    member: Membership,
    messages: Any,
    agent_id: Any = None,
    run_id: Any = None,
    metadata: Any = None,
) -> list[MemoryRecord]:
    """Store memories for the person. Without an LLM each message is stored verbatim (infer=False).

    Returns the stored memories in message order (system messages are not stored, as in mem0).
    With an LLM (``MEMPORTAL_LLM``) the model's facts are stored instead, and a fact that changes
    one of the person's memories corrects or erases it (``memory_remember`` says which); the
    memories added or corrected are returned.
    """
    cleaned = clean_messages(messages)
    agent, run, meta = _write_scope(member, agent_id, run_id, metadata)
    plan = memory_infer_plan(member=member, messages=cleaned, agent_id=agent, run_id=run)
    if plan is not None:
        inferred = _memory_add_inferred(member, plan, agent, run, meta)
        return [*inferred.added, *(record for record, _ in inferred.updated)]
    return _memory_add_raw(member, cleaned, agent, run, meta)


def _memory_add_raw(
    member: Membership, cleaned: list[dict[str, str]], agent: str | None, run: str | None, meta: dict[str, Any]
) -> list[MemoryRecord]:
    """Every non-system message stored verbatim (mem0's infer=False), by the configured writer."""
    if _ingest_mode() == "mem0":
        return _memory_add_via_mem0(member, cleaned, agent, run, meta)
    return _memory_add_verbatim(member, cleaned, agent, run, meta)


@dataclass(frozen=True)
class AddResult:
    """What an app's add did: ``inference`` is "llm" (facts extracted by the configured model),
    "off" (the caller asked for infer=False: every non-system message stored) or "skipped" (the
    caller asked for inference but no LLM is configured: only the person's own messages are
    stored, and one identical to a memory they already have is not stored again)."""

    added: list[MemoryRecord]
    unchanged: list[MemoryRecord]
    inference: str
    #: With an LLM: memories the model corrected (the record after, and the text before) and
    #: memories it erased (as they were; each with an erasure receipt).
    updated: list[tuple[MemoryRecord, str]] = field(default_factory=list)
    deleted: list[MemoryRecord] = field(default_factory=list)


def memory_remember(
    *,
    member: Membership,
    messages: Any,
    agent_id: Any = None,
    run_id: Any = None,
    metadata: Any = None,
    infer: bool = True,
    plan: InferencePlan | None = None,
) -> AddResult:
    """The platform's add: with ``infer`` (its default) and no LLM, store only what the person said.

    mem0 with infer=False stores every message verbatim, the assistant's "Noted." included, and
    the same fact again whenever a program is rerun; an app that asked for inference expected
    neither. Identical texts are found under a per-person advisory lock, so two concurrent adds
    of the same message store it once.

    With a language model, ``plan`` is what ``memory_infer_plan`` got from it (asked before the
    caller's transaction); without one given, the model is asked here.
    """
    if not infer or llm_configured():
        cleaned = clean_messages(messages)
        agent, run, meta = _write_scope(member, agent_id, run_id, metadata)
        if infer:
            plan = plan or memory_infer_plan(member=member, messages=cleaned, agent_id=agent, run_id=run)
            if plan is not None:
                return _memory_add_inferred(member, plan, agent, run, meta)
        return AddResult(_memory_add_raw(member, cleaned, agent, run, meta), [], "off")
    cleaned = clean_messages(messages)
    _write_scope(member, agent_id, run_id, metadata)  # validate before any lookup
    said: list[dict[str, str]] = []
    for message in cleaned:
        if message["role"] == "user" and all(message["content"] != m["content"] for m in said):
            said.append(message)
    with transaction.atomic():
        _require_writable(member)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [member.subject_id])
        existing = selectors.memory_find_texts(member=member, texts=[m["content"] for m in said])
        new = [m for m in said if m["content"] not in existing]
        added = memory_add(member=member, messages=new, agent_id=agent_id, run_id=run_id,
                           metadata=metadata) if new else []
    return AddResult(added, list(existing.values()), "skipped")


def memory_add_many(
    *,
    member: Membership,
    messages: Any,
    agent_id: Any = None,
    run_id: Any = None,
    metadata: Any = None,
) -> list[MemoryRecord]:
    """Import many messages for one person in one transaction, each stored verbatim.

    For imports and backfills: up to ``MAX_MESSAGES_PER_IMPORT`` (default 10,000) messages,
    validated like ``memory_add`` (in slices under ``MAX_MESSAGES_PER_ADD``; errors name the
    message's index in the whole list), embedded in batches, all or nothing. Never calls an
    LLM, even when one is configured: the messages are the memories.
    """
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    elif isinstance(messages, dict):
        messages = [messages]
    limit = settings.MEMPORTAL["MAX_MESSAGES_PER_IMPORT"]
    if not isinstance(messages, list) or not messages:
        raise InvalidInput("messages", "must be a non-empty list of {role, content} objects")
    if len(messages) > limit:
        raise InvalidInput("messages", f"at most {limit} messages per import")
    step = max(1, settings.MEMPORTAL["MAX_MESSAGES_PER_ADD"] - 1)  # room for the placeholder below
    cleaned: list[dict[str, str]] = []
    for start in range(0, len(messages), step):
        part = messages[start : start + step]
        # A slice of only system messages is fine inside a larger import: validate it with a
        # placeholder user message that is then dropped, so its messages are still checked.
        only_system = all(isinstance(m, dict) and m.get("role") == "system" for m in part)
        try:
            checked = clean_messages([*part, {"role": "user", "content": "-"}] if only_system else part)
        except InvalidInput as exc:
            raise InvalidInput(_shift_index(exc.field, start), exc.message) from None
        cleaned += checked[:-1] if only_system else checked
    if all(m["role"] == "system" for m in cleaned):
        raise InvalidInput("messages", "needs at least one user or assistant message")
    agent, run, meta = _write_scope(member, agent_id, run_id, metadata)
    return _memory_add_verbatim(member, cleaned, agent, run, meta)


def _memory_add_verbatim(
    member: Membership, cleaned: list[dict[str, str]], agent: str | None, run: str | None, meta: dict[str, Any]
) -> list[MemoryRecord]:
    """infer=False without mem0's per-message loop: one batched embedding, two COPYs, no re-read.

    mem0 2.2.1 embeds, INSERTs and writes a history row one message at a time; measured, its
    writes alone cost ~8 ms per memory on 2 busy cores (~120/s however fast the embedder is;
    docs/ingest.md). This writes the same rows (bulk.memories_write; proven equal by
    tests/memory/test_ingest_fast_path.py) with mem0's own configured embedder. The pause/ended
    check and the write share one transaction: when the check fails nothing is written.
    """
    kept = [m for m in cleaned if m["role"] != "system"]
    texts = [m["content"] for m in kept]
    vectors = None
    if len(texts) > settings.MEMPORTAL["MAX_MESSAGES_PER_ADD"]:
        # An import embeds for seconds: refuse early, then embed outside the transaction so
        # it is not held open (and vacuum not held back) meanwhile; checked again inside.
        _require_writable(member)
        vectors = embed_for_add(get_memory(), texts)
    with transaction.atomic():
        _require_writable(member)
        if vectors is None:
            vectors = embed_for_add(get_memory(), texts)
        return memories_write(
            member=member,
            memories=[
                NewMemory(text=m["content"], role=m["role"], vector=v, actor_id=m.get("name"))
                for m, v in zip(kept, vectors, strict=True)
            ],
            agent_id=agent,
            run_id=run,
            metadata=meta,
        )


@dataclass(frozen=True)
class InferencePlan:
    """What the model said about one add: the memories it was shown (numbered by position), and its
    decisions. Made by ``memory_infer_plan`` outside any transaction, applied by ``memory_remember``."""

    subject_id: str | None
    shown: list[MemoryRecord]
    decisions: list[inference.Decision]


def memory_infer_plan(
    *, member: Membership | None, messages: Any, agent_id: Any = None, run_id: Any = None
) -> InferencePlan | None:
    """Ask the configured model about an add (None when no model is configured).

    Call it before opening the write's transaction: the model may take seconds, and nothing here
    holds a lock meanwhile. ``member`` None is a person the app names for the first time, who has
    nothing to show the model. The model sees only memories found by a search confined to this
    person (and to this agent and session when the add names them), numbered "0", "1", …
    """
    if not llm_configured():
        return None
    cleaned = clean_messages(messages)
    agent = clean_optional_id(agent_id, field="agent_id")
    run = clean_optional_id(run_id, field="run_id")
    if member is not None:
        _require_writable(member)  # refuse a paused person before paying for the model
    limit = settings.MEMPORTAL["MAX_MESSAGES_PER_ADD"]
    facts = [f for f in inference.facts_extract(messages=cleaned, limit=limit) if _inferred_text(f) is not None]
    related: dict[str, MemoryRecord] = {}
    if member is not None and not member.reads_stopped:  # a stopped-reading person's memories are not shown
        for fact in facts:
            for record in selectors.memory_search(member=member, query=fact, agent_id=agent, run_id=run, limit=5):
                related.setdefault(record.id, record)
    shown = list(related.values())[:RELATED_SHOWN]
    decisions = inference.decisions_get(existing=[r.text for r in shown], facts=facts) if facts else []
    return InferencePlan(member.subject_id if member is not None else None, shown, decisions)


def _memory_add_inferred(
    member: Membership, plan: InferencePlan, agent: str | None, run: str | None, meta: dict[str, Any]
) -> AddResult:
    """Apply the model's decisions: ADD / UPDATE / DELETE / NONE per fact (memportal.memory.inference).

    Only the numbers the model was shown map back to memories, so an UPDATE or DELETE naming
    anything else (a made-up id, another person's real id) is ignored; each memory changes at most
    once. Each change goes through the owner-checked services (``memory_update``, ``memory_delete``
    with its erasure receipt), all in one transaction, under the row's lock: a memory erased or
    corrected since the model saw it is left as it is now, not overwritten blindly.
    """
    if plan.subject_id not in (None, member.subject_id):
        raise ValueError("This inference plan was made for another person.")
    limit = settings.MEMPORTAL["MAX_MESSAGES_PER_ADD"]
    by_ref = {str(n): record for n, record in enumerate(plan.shown)}
    result = AddResult([], [], "llm")
    touched: set[str] = set()
    new_texts: list[str] = []
    with transaction.atomic():
        _require_writable(member)
        for decision in plan.decisions:
            text = _inferred_text(decision.text)
            if decision.event == "ADD":
                if text is not None and text not in new_texts and len(new_texts) < limit:
                    new_texts.append(text)
                continue
            record = by_ref.get(decision.ref)
            if record is None or record.id in touched:
                logger.warning("Ignoring a %s for a memory the model was not shown", decision.event)
                continue
            touched.add(record.id)
            try:
                if selectors.memory_lock(member=member, memory_id=record.id).text != record.text:
                    continue  # corrected since the model saw it: the person's correction stands
                if decision.event == "UPDATE" and text is not None and text != record.text:
                    result.updated.append((memory_update(member=member, memory_id=record.id, text=text), record.text))
                elif decision.event == "DELETE":
                    memory_delete(member=member, memory_id=record.id, via="api")
                    result.deleted.append(record)
                else:
                    result.unchanged.append(record)
            except MemoryNotFound:  # erased since the model was asked: leave it be
                continue
        with connection.cursor() as cursor:  # the same identical-text guard as inference-free adds
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [member.subject_id])
        existing = selectors.memory_find_texts(member=member, texts=new_texts)
        result.unchanged.extend(r for t, r in existing.items() if r.id not in touched)
        fresh = [t for t in new_texts if t not in existing]
        if fresh:
            vectors = embed_for_add(get_memory(), fresh)
            result.added.extend(memories_write(
                member=member, memories=[NewMemory(text=t, role="user", vector=v) for t, v in zip(fresh, vectors,
                                                                                                 strict=True)],
                agent_id=agent, run_id=run, metadata=meta,
            ))
    return result


#: How many related memories the model is shown at most (mem0 shows up to 10 per search).
RELATED_SHOWN = 30


def _inferred_text(value: Any) -> str | None:
    """A memory text from the model, or None when it breaks a rule (ignored, never stored)."""
    try:
        return clean_text(value)
    except InvalidInput:
        return None


def _memory_add_via_mem0(
    member: Membership, cleaned: list[dict[str, str]], agent: str | None, run: str | None, meta: dict[str, Any]
) -> list[MemoryRecord]:
    """mem0's own add loop as the writer, for infer=False when MEMPORTAL['INGEST'] is "mem0"."""
    memory = get_memory()
    texts = [m["content"] for m in cleaned if m["role"] != "system"]
    with transaction.atomic():
        _require_writable(member)
        with embeddings_prefetched(memory, texts), history_scope(
            app_id=member.tenant.slug, subject_id=member.subject_id, agent_id=agent, run_id=run
        ):
            result = memory.add(cleaned, user_id=member.subject_id, agent_id=agent, run_id=run, metadata=meta,
                                infer=False)
        person_data_version_bump(subject_ids=[member.subject_id])
        ids = [item["id"] for item in result.get("results", []) if item.get("event", "ADD") != "DELETE"]
        return selectors.memory_get_many(member=member, memory_ids=ids)


def _ingest_mode() -> str:
    """ "fast" (default): memories_write; "mem0": mem0's own add loop (slower, same rows)."""
    return settings.MEMPORTAL["INGEST"]


def _shift_index(field_name: str, offset: int) -> str:
    match = re.match(r"messages\[(\d+)\](.*)", field_name)
    return f"messages[{int(match.group(1)) + offset}]{match.group(2)}" if match else field_name


def memory_update(*, member: Membership, memory_id: Any, text: Any) -> MemoryRecord:
    """Correct a memory's text; it is re-embedded and the change recorded in its history.

    The memory's row is locked (FOR UPDATE) and its scope checked again under the lock: an
    erasure that deleted it first makes this a MemoryNotFound, and an erasure that comes later
    waits for this correction and then erases its history row too. (mem0 writes the history
    row even when its UPDATE matched nothing, so the lock, not mem0, keeps them ordered.)
    """
    new_text = clean_text(text)
    with transaction.atomic():
        record = selectors.memory_lock(member=member, memory_id=memory_id)
        if new_text != record.text:
            with history_scope(app_id=member.tenant.slug, subject_id=member.subject_id,
                               agent_id=record.agent_id, run_id=record.run_id):
                get_memory().update(record.id, text=new_text)
            person_data_version_bump(subject_ids=[member.subject_id])
        return selectors.memory_get(member=member, memory_id=record.id)


def _scope(member: Membership, **narrow: Any) -> erasure.Scope:
    return erasure.Scope(tenant_id=member.tenant_id, app_id=member.tenant.slug, subject_ids=(member.subject_id,),
                         **narrow)


def _erase_with_receipt(
    *, scope: erasure.Scope, tenant: Tenant, member: Membership | None, kind: str,
    requested_by: AbstractBaseUser | None, via: str,
) -> ErasureReceipt:
    """Erase ``scope`` from every store of the registry and write the receipt, in the caller's
    transaction; the independent recount runs after commit (erasure.verify_after_commit)."""
    # The app's id for the person, for the webhook notice: an erasure that ends the membership replaces it.
    user_id = member.external_id if member is not None else None
    erased = erasure.erase(scope=scope)
    receipt = ErasureReceipt.objects.create(
        tenant=tenant, membership=member, kind=kind, agent_id=scope.agent_id or "", run_id=scope.run_id or "",
        memory_id=scope.memory_id, requested_by=_user(requested_by), requested_via=via,
        range_start=scope.window[0] if scope.window else None, range_end=scope.window[1] if scope.window else None,
        memories_erased=erased.get("vectors", 0), history_rows_erased=erased.get("history", 0),
        message_rows_erased=erased.get("messages", 0), started_at=scope.started_at, finished_at=timezone.now(),
    )
    erasure.receipt_lines_write(receipt=receipt, erased=erased)
    erasure.verify_after_commit(receipt_id=receipt.pk, scope=scope)
    from memportal.agents.webhooks import erasure_event_emit

    erasure_event_emit(receipt=receipt, member=member, user_id=user_id, ends_membership=scope.ends_membership)
    return receipt


def memory_delete(
    *, member: Membership, memory_id: Any, requested_by: AbstractBaseUser | None = None, via: str = "you"
) -> ErasureReceipt:
    """Erase one memory: its vector, its history and any copy of its text.

    The row is locked first, so of two simultaneous deletes one erases and the other finds
    nothing (MemoryNotFound, a 404), and a correction in flight finishes before it is erased.
    """
    with transaction.atomic():
        record = selectors.memory_lock(member=member, memory_id=memory_id)
        scope = _scope(member, agent_id=record.agent_id, run_id=record.run_id, memory_id=record.id)
        return _erase_with_receipt(scope=scope, tenant=member.tenant, member=member, kind=ErasureReceipt.Kind.MEMORY,
                                   requested_by=requested_by, via=via)


def memory_delete_all(
    *,
    member: Membership,
    agent_id: Any = None,
    run_id: Any = None,
    requested_by: AbstractBaseUser | None = None,
    via: str = "you",
    kind: str | None = None,
    ends_membership: bool = False,
    account: AbstractBaseUser | None = None,
) -> ErasureReceipt:
    """Erase all the person's memories, or one agent's, or one session's, with a verified receipt.

    ``ends_membership``: the person leaves this tenant (their identifiers go too); ``account``:
    the Django account being deleted (its open sessions and cache entries go too).
    """
    agent = clean_optional_id(agent_id, field="agent_id")
    run = clean_optional_id(run_id, field="run_id")
    if kind is None:
        kind = ErasureReceipt.Kind.RUN if run else ErasureReceipt.Kind.AGENT if agent else ErasureReceipt.Kind.ALL
    scope = _scope(
        member, agent_id=agent, run_id=run, ends_membership=ends_membership,
        user_ids=(account.pk,) if account is not None else (),
        emails=(account.email,) if account is not None and account.email else (),
    )
    with transaction.atomic():
        return _erase_with_receipt(scope=scope, tenant=member.tenant, member=member, kind=kind,
                                   requested_by=requested_by, via=via)


def membership_end(*, member: Membership, requested_by: AbstractBaseUser | None = None,
                   via: str = "you", account: AbstractBaseUser | None = None) -> ErasureReceipt:
    """Erase everything the person has in this tenant, then close the membership for good.

    Its subject id is never reused: a later membership for the same person gets a new one. The
    app's own id for the person is replaced by a keyed hash (erasure.ExternalIds).
    """
    with transaction.atomic():
        # Lock first: writes in flight finish (and are erased below); later ones see it ended.
        Membership.objects.select_for_update().filter(pk=member.pk).exists()
        receipt = memory_delete_all(member=member, requested_by=requested_by, via=via,
                                    kind=ErasureReceipt.Kind.ACCOUNT, ends_membership=True, account=account)
        Membership.objects.filter(pk=member.pk).update(ended_at=timezone.now(), ended_reason="account")
        return receipt


def memory_pause_set(*, member: Membership, paused: bool) -> Membership:
    """"Stop this app from remembering me" (and resume): one flag per membership, i.e. per app.

    The update waits for writes in flight (they hold the row FOR SHARE, ``_require_writable``), so
    no write of this app lands after it; ``access.member_intent_check`` refuses the later ones."""
    Membership.objects.filter(pk=member.pk).update(memory_paused=bool(paused))
    member.memory_paused = bool(paused)
    return member


def memory_reads_stop_set(*, member: Membership, stopped: bool) -> Membership:
    """"Stop this app from reading my memories" (and resume), per membership: every read the app's
    keys make leaves this person out or answers 423 (``access.member_intent_check``)."""
    Membership.objects.filter(pk=member.pk).update(reads_stopped=bool(stopped))
    member.reads_stopped = bool(stopped)
    return member


# --- tenant-wide (admin offboarding) -----------------------------------------------------------
@dataclass(frozen=True)
class _Erased:
    memories: int
    history: int
    messages: int


def tenant_scope(*, tenant: Tenant, ends_membership: bool = True) -> erasure.Scope:
    return erasure.Scope(tenant_id=tenant.pk, app_id=tenant.slug, subject_ids=None, ends_membership=ends_membership)


def tenant_memory_count(*, tenant: Tenant) -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE payload->>'app_id' = %s", [tenant.slug])
        return cur.fetchone()[0]


def tenant_erase_batch(*, tenant: Tenant, batch_size: int = 5000) -> _Erased:
    """Erase up to ``batch_size`` of the tenant's memories (and their history) in one transaction.
    0 memories means the vectors are done; ``tenant_erase_rest`` then sweeps every other store.

    Idempotent and resumable: each batch commits on its own, so a job killed half-way simply
    continues with what is left.
    """
    with transaction.atomic():
        memories, history = erasure.erase_vectors_batch(scope=tenant_scope(tenant=tenant), limit=batch_size)
        return _Erased(memories, history, 0)


def tenant_erase_rest(*, tenant: Tenant, ends_membership: bool) -> dict[str, int]:
    """After the batches: every other store of the registry for the whole tenant (idempotent)."""
    with transaction.atomic():
        return erasure.erase(scope=tenant_scope(tenant=tenant, ends_membership=ends_membership))


def _user(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None
