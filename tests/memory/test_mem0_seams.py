"""The four places memportal plugs into mem0's internals (see mem0_backend's docstring).

If a mem0 upgrade moves any of them, one of these fails instead of mem0 silently falling back
to its defaults (SQLite history, HNSW, OpenAI embeddings, telemetry).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from django.db import connection

from memportal.memory import embedding, mem0_backend


@pytest.fixture
def memory(db):
    return mem0_backend.get_memory()


def test_mem0_uses_our_offline_embedder(memory):
    assert isinstance(memory.embedding_model, mem0_backend.OnnxMiniLMEmbedding)
    vector = memory.embedding_model.embed("hello", "add")
    assert len(vector) == embedding.DIMENSIONS
    assert abs(np.linalg.norm(vector) - 1) < 1e-4


def test_mem0_uses_the_offline_llm_when_none_is_configured(memory):
    assert isinstance(memory.llm, mem0_backend.OfflineLLM)
    assert mem0_backend.llm_configured() is False


def test_mem0_stores_vectors_in_our_pgvector_table_through_django(memory):
    assert type(memory.vector_store).__name__ == "PGVector"
    assert memory.vector_store.collection_name == "memportal_memories"
    assert isinstance(memory.vector_store.connection_pool, mem0_backend.DjangoConnectionPool)
    assert memory.vector_store.use_hnsw is False


def test_the_vector_table_has_per_person_btree_indexes_and_no_hnsw(db):
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'memportal_memories'")
        indexes = " ".join(r[0] for r in cur.fetchall())
    assert "hnsw" not in indexes.lower()
    assert "(payload ->> 'app_id'::text)" in indexes and "(payload ->> 'user_id'::text)" in indexes


def test_mem0_history_lives_in_postgres_and_covers_mem0s_interface(memory):
    assert isinstance(memory.db, mem0_backend.DjangoHistoryStore)
    missing = [m for m in mem0_backend.HISTORY_STORE_METHODS if not hasattr(memory.db, m)]
    assert missing == []


def test_embeddings_rank_like_minilm():
    enc = embedding.shared_encoder()
    query, good, bad = enc.encode(["food preferences", "I am vegetarian", "I prefer a window seat"])
    assert float(query @ good) > float(query @ bad)


def test_a_tampered_model_file_is_refused(tmp_path):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    with pytest.raises(embedding.ModelFileError, match="sha256 mismatch"):
        embedding._verify(fake, hashlib.sha256(b"the real one").hexdigest())
