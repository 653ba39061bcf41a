"""mem0's own default configurations, for side-by-side benchmarks only (never used by the site).

Two baselines, both with memportal's offline ONNX embedder so only the store differs:

* ``qdrant``: mem0's default vector store, embedded Qdrant (``path=...``, in memory, a
  linear scan with payload filtering), in a temporary directory.
* ``pgvector``: mem0's pgvector store with mem0's defaults: mem0 creates its own table with
  an HNSW index (``hnsw=True``) and no index on ``user_id``.

The benchmark package talks to them through ``Baseline`` (insert precomputed vectors, search
one person with or without embedding the query) so that it never imports mem0 itself.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mem0 import Memory
from mem0.configs.base import MemoryConfig
from mem0.vector_stores.configs import VectorStoreConfig

from .mem0_backend import _embedder_config, _llm_config


@dataclass
class Baseline:
    name: str
    memory: Memory
    tmpdir: tempfile.TemporaryDirectory | None = None

    def insert(
        self, *, vectors: Sequence[Sequence[float]], ids: list[str], payloads: list[dict[str, Any]]
    ) -> None:
        """mem0's own store insert (the path ``Memory.add`` ends in), with precomputed vectors."""
        self.memory.vector_store.insert(
            vectors=[list(map(float, v)) for v in vectors], ids=ids, payloads=payloads
        )

    def search_vector(self, *, vector: Sequence[float], user_id: str, limit: int = 10) -> list[str]:
        """The store's filtered nearest-neighbour search, as mem0 calls it (no embedding)."""
        hits = self.memory.vector_store.search(
            query="", vectors=list(map(float, vector)), top_k=limit, filters={"user_id": user_id}
        )
        return [str(h.id) for h in hits]

    def search(self, *, query: str, user_id: str, limit: int = 10) -> list[str]:
        """``Memory.search`` with mem0's defaults (embeds the query, threshold 0.1)."""
        result = self.memory.search(query, top_k=limit, filters={"user_id": user_id})
        return [str(r["id"]) for r in result.get("results", [])]

    def close(self) -> None:
        client = getattr(self.memory.vector_store, "client", None)
        if client is not None and hasattr(client, "close"):
            client.close()
        if self.tmpdir is not None:
            self.tmpdir.cleanup()


def _memory(vector_store: VectorStoreConfig, history_path: str) -> Memory:
    from django.conf import settings

    conf = settings.MEMPORTAL
    config = MemoryConfig(
        vector_store=vector_store,
        embedder=_embedder_config(conf),
        llm=_llm_config(conf),
        history_db_path=history_path,
    )
    return Memory(config)


def baseline_qdrant(*, dims: int = 384) -> Baseline:
    """mem0's default: embedded Qdrant (local mode, in memory) in a fresh temporary directory."""
    tmp = tempfile.TemporaryDirectory(prefix="mem0-qdrant-")
    store = VectorStoreConfig(
        provider="qdrant",
        config={"collection_name": "mem0", "embedding_model_dims": dims, "path": f"{tmp.name}/qdrant"},
    )
    return Baseline("mem0 default (embedded Qdrant)", _memory(store, f"{tmp.name}/history.db"), tmp)


def baseline_pgvector(
    *, connection_string: str, collection: str = "mem0_default", dims: int = 384
) -> Baseline:
    """mem0 on pgvector with mem0's defaults: its own table, HNSW index, no user_id index."""
    tmp = tempfile.TemporaryDirectory(prefix="mem0-pgvector-")
    store = VectorStoreConfig(
        provider="pgvector",
        config={
            "collection_name": collection,
            "embedding_model_dims": dims,
            "connection_string": connection_string,
            "hnsw": True,
        },
    )
    return Baseline("mem0 default (pgvector, HNSW)", _memory(store, f"{tmp.name}/history.db"), tmp)
