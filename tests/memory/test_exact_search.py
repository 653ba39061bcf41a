"""A person with 5 memories among many others gets all 5, ranked, and the plan uses the btree index."""

from __future__ import annotations

import json
import uuid

import numpy as np
from django.db import connection

from memportal.memory import selectors, services
from memportal.memory.records import TABLE

OTHERS = 30_000


def _bulk_other_rows(n: int) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with connection.cursor() as cur:
        with cur.copy(f"COPY {TABLE} (id, vector, payload) FROM STDIN") as copy:
            for i in range(n):
                payload = {"data": f"other {i}", "user_id": f"s_other{i % 3000}", "app_id": "concierge_app",
                           "created_at": "2026-01-01T00:00:00+00:00"}
                copy.write_row((str(uuid.uuid4()), selectors.vector_literal(vectors[i]), json.dumps(payload)))
        cur.execute(f"ANALYZE {TABLE}")


def test_small_user_gets_all_memories_ranked_among_many(owner):
    _bulk_other_rows(OTHERS)
    texts = ["I am vegetarian", "I avoid shellfish", "I prefer boutique hotels", "I like window seats",
             "My favourite cuisine is Kyoto kaiseki"]
    for text in texts:
        services.memory_add(member=owner.member, messages=text)
    # floor=False: the ranking uncut (this test is about exactness, not the relevance floor).
    hits = selectors.memory_search(member=owner.member, query="food preferences", limit=10, floor=False)
    assert {h.text for h in hits} == set(texts)
    # No query word in any memory: the order is the cosine order.
    hits = selectors.memory_search(member=owner.member, query="dietary habits", limit=10, floor=False)
    assert {h.text for h in hits} == set(texts)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    with connection.cursor() as cur:
        cur.execute(
            f"EXPLAIN SELECT id FROM {TABLE} WHERE payload->>'app_id' = %s AND payload->>'user_id' = %s "
            "ORDER BY vector <=> %s::vector LIMIT 10",
            ["concierge_app", owner.member.subject_id, selectors.vector_literal(np.ones(384) / np.sqrt(384))],
        )
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "Index" in plan and "Seq Scan" not in plan, plan
