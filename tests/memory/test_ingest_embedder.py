"""Large batches are embedded in length-sorted chunks: same vectors, same order as one at a time."""

from __future__ import annotations

import numpy as np

from memportal.memory import embedding


def test_a_large_batch_keeps_each_texts_own_vector_in_order():
    enc = embedding.shared_encoder()
    texts = [("word " * (i % 17 + 1)) + f"number {i}" for i in range(embedding.CHUNK * 2 + 5)]
    batched = enc.encode(texts)
    assert batched.shape == (len(texts), embedding.DIMENSIONS)
    for i in (0, 1, embedding.CHUNK, len(texts) - 1):
        alone = enc.encode([texts[i]])[0]
        assert float(alone @ batched[i]) > 0.999


def test_an_empty_batch_gives_no_vectors():
    assert embedding.shared_encoder().encode([]).shape == (0, embedding.DIMENSIONS)
    assert np.isfinite(embedding.shared_encoder().encode(["x"])).all()
