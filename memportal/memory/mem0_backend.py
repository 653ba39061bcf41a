"""mem0's OSS ``Memory``, wired onto memportal's PostgreSQL. Every touch of mem0 internals is here.

Four seams, each covered by tests/memory/test_mem0_seams.py so that a mem0 upgrade that moves
one fails a test instead of silently falling back to mem0's defaults:

1. **Vector store**: mem0's own ``pgvector`` store, given a "pool" that hands out the current
   thread's Django connection. mem0's writes then join Django's transaction (an erasure and its
   receipt commit together), each thread uses its own connection (safe under concurrent
   requests), and any number of processes share the server. The table and its indexes are
   created by our migration, not by mem0 (no HNSW: filtered HNSW under-returns per person).
2. **Embedder**: mem0 2.2.1 has no public registry for embedders, so our ONNX embedder is added
   to ``EmbedderFactory.provider_to_class`` and selected with an ``EmbedderConfig`` built by
   ``model_construct`` (its validator only knows mem0's own providers).
3. **LLM**: with no LLM configured, ``LlmFactory.register_provider`` (public) installs one that
   refuses to run; memories are then added with ``infer=False`` and it is never called.
4. **History**: mem0's SQLite history/messages store (``Memory.db``) is replaced with
   ``DjangoHistoryStore``, which keeps them in PostgreSQL where erasure can reach them and
   several processes can write at once.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection
from mem0 import Memory
from mem0.configs.base import MemoryConfig
from mem0.embeddings.base import EmbeddingBase
from mem0.embeddings.configs import EmbedderConfig
from mem0.llms.base import LLMBase
from mem0.llms.configs import LlmConfig
from mem0.memory.storage import SQLiteManager
from mem0.utils.factory import EmbedderFactory, LlmFactory
from mem0.vector_stores.configs import VectorStoreConfig
from psycopg.types.json import JsonbLoader

import memportal.memory  # noqa: F401  (sets MEM0_TELEMETRY / MEM0_DIR before mem0 loads)

from .embedding import shared_encoder
from .models import MemoryEvent, MemoryMessage
from .records import TABLE

ONNX_PROVIDER = "memportal_onnx"
OFFLINE_LLM_PROVIDER = "memportal_offline"


# --- 1. vector store connections -----------------------------------------------------------
class _DjangoConnection:
    """The subset of a psycopg connection mem0's pgvector store uses."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def cursor(self) -> Any:
        cur = self._raw.cursor()
        # Django loads jsonb as text (its JSONField decodes itself); mem0 expects dicts.
        cur.adapters.register_loader("jsonb", JsonbLoader)
        return cur

    # Django owns the transaction: autocommit outside atomic(), commit/rollback at its end.
    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass


class DjangoConnectionPool:
    """Looks like psycopg_pool.ConnectionPool to mem0; yields this thread's Django connection."""

    @contextmanager
    def connection(self):
        connection.ensure_connection()
        yield _DjangoConnection(connection.connection)

    def close(self) -> None:  # mem0 closes its pool in __del__; Django closes connections itself
        pass


# --- 2. embedder ---------------------------------------------------------------------------
class OnnxMiniLMEmbedding(EmbeddingBase):
    """mem0 embedder backed by memportal.memory.embedding (all-MiniLM-L6-v2, int8 ONNX)."""

    def __init__(self, config=None) -> None:
        super().__init__(config)
        self.encoder = shared_encoder(threads=settings.MEMPORTAL["EMBEDDER_THREADS"])

    def embed(self, text, memory_action=None):
        cached = _prefetched.get(text) if memory_action == "add" else None
        if cached is not None:
            return cached
        return self.encoder.encode([text])[0].tolist()

    def embed_batch(self, texts, memory_action="add"):
        return [row.tolist() for row in self.encoder.encode(list(texts))]


class _Prefetched(threading.local):
    """This thread's vectors computed ahead of mem0's one-``embed``-per-message add loop."""

    def __init__(self) -> None:
        self.vectors: dict[str, list[float]] = {}

    def get(self, text: str) -> list[float] | None:
        return self.vectors.get(text)


_prefetched = _Prefetched()


@contextmanager
def embeddings_prefetched(memory: Memory, texts: list[str]):
    """Embed ``texts`` in ONE batched call; mem0's per-message ``embed(text, "add")`` then hits it.

    Only our ONNX embedder reads the cache (mem0's own embedders ignore it and embed as usual).
    The cache lives for the ``with`` block and this thread only, so vectors never leak between
    calls or people.
    """
    model = memory.embedding_model
    if not isinstance(model, OnnxMiniLMEmbedding) or not texts:
        yield
        return
    unique = list(dict.fromkeys(texts))
    _prefetched.vectors = dict(zip(unique, model.embed_batch(unique), strict=True))
    try:
        yield
    finally:
        _prefetched.vectors = {}


def embed_for_add(memory: Memory, texts: list[str]) -> list[list[float]]:
    """Vectors for new memories from mem0's configured embedder, one batched call."""
    if not texts:
        return []
    return [list(v) for v in memory.embedding_model.embed_batch(texts, memory_action="add")]


# --- 3. LLM ----------------------------------------------------------------------------------
class OfflineLLM(LLMBase):
    """Stands in when no LLM is configured. memportal never calls it (infer=False)."""

    def __init__(self, config=None) -> None:
        super().__init__(config)

    def generate_response(self, messages, tools=None, tool_choice="auto", **kwargs):
        raise RuntimeError("No LLM is configured (MEMPORTAL_LLM is empty): memportal runs offline.")


# --- 4. history ------------------------------------------------------------------------------
def _subject_from_scope(session_scope: str) -> str | None:
    for part in session_scope.split("&"):
        key, _, value = part.partition("=")
        if key == "user_id":
            return value
    return None


class _HistoryScope(threading.local):
    """The scope (app_id, subject_id, agent_id, run_id) of the mem0 call running on this thread.

    mem0 writes history with a bare memory id, sometimes after the memory row is gone (its
    DELETE event). The service states the scope around every mem0 call (``history_scope``), so
    each history row carries it and erasure can find and count it by scope.
    """

    value: tuple[str | None, str | None, str | None, str | None] | None = None


_history_scope = _HistoryScope()


@contextmanager
def history_scope(*, app_id: str, subject_id: str, agent_id: str | None = None, run_id: str | None = None):
    previous = _history_scope.value
    _history_scope.value = (app_id, subject_id, agent_id, run_id)
    try:
        yield
    finally:
        _history_scope.value = previous


def _scope_fields(memory_id: Any) -> dict[str, Any]:
    scope = _history_scope.value
    if scope is None:
        # Outside a service call (mem0 used directly by a test or a shell): read the memory's own payload.
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT payload->>'app_id', payload->>'user_id', payload->>'agent_id', payload->>'run_id' "
                f"FROM {TABLE} WHERE id = %s",
                [str(memory_id)],
            )
            scope = cur.fetchone() or (None, None, None, None)
    return dict(zip(("app_id", "subject_id", "agent_id", "run_id"), scope, strict=True))


def _webhooks_notify(rows: list[tuple[str, Any, dict[str, Any]]]) -> None:
    """Every history row is a webhook event (memportal.agents.webhooks), in the writing transaction."""
    from memportal.agents.webhooks import memory_events_emit

    for app_id in {scope["app_id"] for _, _, scope in rows}:
        memory_events_emit(app_id=app_id, rows=[
            (event, memory_id, scope["subject_id"], scope["agent_id"], scope["run_id"])
            for event, memory_id, scope in rows if scope["app_id"] == app_id])


class DjangoHistoryStore:
    """Drop-in for mem0's ``SQLiteManager``: history and raw messages in PostgreSQL."""

    def add_history(self, memory_id, old_memory, new_memory, event, *, created_at=None, updated_at=None,
                    is_deleted=0, actor_id=None, role=None) -> None:
        scope = _scope_fields(memory_id)
        MemoryEvent.objects.create(
            memory_id=memory_id, old_memory=old_memory, new_memory=new_memory, event=event,
            created_at=created_at, updated_at=updated_at, is_deleted=bool(is_deleted),
            actor_id=actor_id, role=role, **scope,
        )
        _webhooks_notify([(event, memory_id, scope)])

    def batch_add_history(self, records: list[dict[str, Any]]) -> None:
        scoped = [(r, _scope_fields(r["memory_id"])) for r in records]
        MemoryEvent.objects.bulk_create(
            MemoryEvent(
                memory_id=r["memory_id"], old_memory=r.get("old_memory"), new_memory=r.get("new_memory"),
                event=r["event"], created_at=r.get("created_at"), updated_at=r.get("updated_at"),
                is_deleted=bool(r.get("is_deleted", 0)), actor_id=r.get("actor_id"), role=r.get("role"),
                **scope,
            )
            for r, scope in scoped
        )
        _webhooks_notify([(r["event"], r["memory_id"], scope) for r, scope in scoped])

    def get_history(self, memory_id: str) -> list[dict[str, Any]]:
        return [
            {
                "id": e.pk, "memory_id": str(e.memory_id), "old_memory": e.old_memory,
                "new_memory": e.new_memory, "event": e.event, "created_at": e.created_at,
                "updated_at": e.updated_at, "is_deleted": e.is_deleted, "actor_id": e.actor_id, "role": e.role,
            }
            for e in MemoryEvent.objects.filter(memory_id=memory_id)
        ]

    def save_messages(self, messages: list[dict[str, Any]], session_scope: str) -> None:
        subject = _subject_from_scope(session_scope)
        MemoryMessage.objects.bulk_create(
            MemoryMessage(session_scope=session_scope, subject_id=subject, role=m.get("role"),
                          content=m.get("content"), name=m.get("name"))
            for m in messages
        )
        keep = MemoryMessage.objects.filter(session_scope=session_scope).order_by("-created_at", "-id")[:10]
        MemoryMessage.objects.filter(session_scope=session_scope).exclude(pk__in=keep.values("pk")).delete()

    def get_last_messages(self, session_scope: str, limit: int = 10) -> list[dict[str, Any]]:
        rows = MemoryMessage.objects.filter(session_scope=session_scope).order_by("-created_at", "-id")[:limit]
        return [
            {"role": m.role, "content": m.content, "name": m.name, "created_at": m.created_at.isoformat()}
            for m in reversed(list(rows))
        ]

    def reset(self) -> None:
        raise RuntimeError("Refusing to reset memportal's history: use the erasure services.")

    def close(self) -> None:
        pass


#: The public methods of mem0's store that ours must provide (checked by a test).
HISTORY_STORE_METHODS = sorted(n for n in vars(SQLiteManager) if not n.startswith("_"))


# --- assembling the Memory -----------------------------------------------------------------
def _embedder_config(conf: dict[str, Any]) -> EmbedderConfig:
    dims = conf["EMBEDDING_DIMS"]
    if conf["EMBEDDER"] == "onnx-minilm":
        EmbedderFactory.provider_to_class[ONNX_PROVIDER] = f"{__name__}.OnnxMiniLMEmbedding"
        return EmbedderConfig.model_construct(provider=ONNX_PROVIDER, config={"embedding_dims": dims})
    if conf["EMBEDDER"] == "openai":
        cfg = {"model": conf["EMBEDDER_MODEL"] or "text-embedding-3-small", "embedding_dims": dims,
               "api_key": conf["LLM_API_KEY"] or None}
        if conf["EMBEDDER_BASE_URL"]:
            cfg["openai_base_url"] = conf["EMBEDDER_BASE_URL"]
        return EmbedderConfig(provider="openai", config=cfg)
    if conf["EMBEDDER"] == "ollama":
        cfg = {"model": conf["EMBEDDER_MODEL"] or "nomic-embed-text", "embedding_dims": dims}
        if conf["EMBEDDER_BASE_URL"]:
            cfg["ollama_base_url"] = conf["EMBEDDER_BASE_URL"]
        return EmbedderConfig(provider="ollama", config=cfg)
    raise ValueError(f"Unknown MEMPORTAL_EMBEDDER {conf['EMBEDDER']!r}: use onnx-minilm, openai or ollama.")


def _llm_config(conf: dict[str, Any]) -> LlmConfig:
    if conf["LLM"] == "openai":
        cfg = {"model": conf["LLM_MODEL"] or "gpt-4.1-mini", "api_key": conf["LLM_API_KEY"] or None}
        if conf["LLM_BASE_URL"]:
            cfg["openai_base_url"] = conf["LLM_BASE_URL"]
        return LlmConfig(provider="openai", config=cfg)
    if conf["LLM"] == "ollama":
        cfg = {"model": conf["LLM_MODEL"] or "llama3.1"}
        if conf["LLM_BASE_URL"]:
            cfg["ollama_base_url"] = conf["LLM_BASE_URL"]
        return LlmConfig(provider="ollama", config=cfg)
    if conf["LLM"]:
        raise ValueError(f"Unknown MEMPORTAL_LLM {conf['LLM']!r}: leave empty, or use openai or ollama.")
    LlmFactory.register_provider(OFFLINE_LLM_PROVIDER, f"{__name__}.OfflineLLM")
    return LlmConfig.model_construct(provider=OFFLINE_LLM_PROVIDER, config={})


def build_memory() -> Memory:
    conf = settings.MEMPORTAL
    config = MemoryConfig(
        vector_store=VectorStoreConfig(
            provider="pgvector",
            config={
                "collection_name": conf["COLLECTION"],
                "embedding_model_dims": conf["EMBEDDING_DIMS"],
                "connection_pool": DjangoConnectionPool(),
                "hnsw": False,
                "diskann": False,
            },
        ),
        embedder=_embedder_config(conf),
        llm=_llm_config(conf),
        history_db_path=":memory:",  # replaced just below; nothing is written to disk
    )
    memory = Memory(config)
    memory.db.close()
    memory.db = DjangoHistoryStore()
    return memory


def llm_configured() -> bool:
    return bool(settings.MEMPORTAL["LLM"])


_memory: Memory | None = None
_memory_lock = threading.Lock()


def get_memory() -> Memory:
    """The process-wide mem0 instance. Safe to share between threads (see module docstring)."""
    global _memory
    if _memory is None:
        with _memory_lock:
            if _memory is None:
                _memory = build_memory()
    return _memory


def telemetry_enabled() -> bool:
    """What mem0 itself decided at import (tests assert it is False)."""
    from mem0.memory import telemetry

    return bool(telemetry.MEM0_TELEMETRY)
