"""Hybrid search (memory.ranking): keyword matches first, the relevance floor, words for scores,
isolation of the full-text path, hostile queries, the index it uses, and erasure of what it indexes."""

from __future__ import annotations

import pytest
from django.db import connection

from memportal.memory import _rows, ranking, selectors, services, tenant_selectors
from memportal.memory.errors import InvalidInput
from memportal.memory.records import TABLE
from memportal.memory.selectors import _scope_sql


def _add(member, *texts: str) -> None:
    services.memory_add(member=member, messages=[{"role": "user", "content": t} for t in texts])


def _texts(records) -> list[str]:
    return [r.text for r in records]


def test_a_word_typed_from_a_memory_ranks_that_memory_first(owner):
    _add(owner.member, "I ate a vegan burger after the race", "I am vegetarian and eat lots of lentils",
         "I swim 2 km every Tuesday", "My running shoes are size 39")
    where, params = _scope_sql(owner.member)
    vector_only = ranking.fuse(
        _rows.search_candidates(where=where, params=params, query="vegetarian", limit=10, method="vector"),
        limit=10, floor=False, method="vector",
    )
    # The embedding alone puts the vegan burger first: the keyword is what moves the other up.
    assert vector_only[0].text == "I ate a vegan burger after the race"
    hits = selectors.memory_search(member=owner.member, query="vegetarian")
    assert hits[0].text == "I am vegetarian and eat lots of lentils"
    assert hits[0].match == ranking.STRONG


def test_every_word_of_the_query_beats_a_closer_meaning(owner):
    _add(owner.member, "I like window seats on long flights", "I always book an aisle seat on short trips",
         "I hate early morning meetings")
    hits = selectors.memory_search(member=owner.member, query="trip")
    assert hits[0].text == "I always book an aisle seat on short trips"


def test_seats_does_not_show_unrelated_memories(owner, colleague):
    # The case: "seats" showed "I am vegetarian" (0.14) and the football team (0.12).
    _add(owner.member, "I am vegetarian", "My favourite football team is Benfica", "I avoid shellfish")
    assert selectors.memory_search(member=owner.member, query="seats") == []
    _add(colleague.member, "I like window seats on long flights", "I am vegetarian")
    hits = selectors.memory_search(member=colleague.member, query="seats")
    assert _texts(hits) == ["I like window seats on long flights"]


def test_without_the_floor_everything_is_ranked(owner):
    _add(owner.member, "I am vegetarian", "My favourite football team is Benfica")
    hits = selectors.memory_search(member=owner.member, query="seats", floor=False)
    assert len(hits) == 2 and {h.match for h in hits} == {ranking.WEAK}


def test_a_threshold_replaces_the_floor_and_cuts_on_cosine(owner):
    _add(owner.member, "I am vegetarian", "My favourite football team is Benfica")
    assert len(selectors.memory_search(member=owner.member, query="seats", threshold=0.0)) == 2
    high = selectors.memory_search(member=owner.member, query="vegetarian", threshold=0.99)
    assert all(h.score >= 0.99 for h in high)


def test_scores_stay_cosine_and_matches_are_words(owner):
    _add(owner.member, "My sister Ana lives in Porto", "I play the cello")
    hits = selectors.memory_search(member=owner.member, query="Porto")
    assert _texts(hits) == ["My sister Ana lives in Porto"]
    assert 0 < hits[0].score <= 1 and hits[0].match in {ranking.STRONG, ranking.WEAK}


def test_a_keyword_from_a_colleagues_memory_never_returns_it(owner, colleague, stranger):
    _add(colleague.member, "My zanzibar passport number is in the safe")
    _add(stranger.member, "Zanzibar is where I keep my boat")
    _add(owner.member, "I like tea")
    for query in ("zanzibar", "Zanzibar passport boat", "zanzibar | passport", "zanzibar:*"):
        hits = selectors.memory_search(member=owner.member, query=query, floor=False)
        assert _texts(hits) == ["I like tea"]
        assert selectors.memory_search(member=owner.member, query=query) == []
    # Staff search of one tenant never reaches the other tenant's memory with the same word.
    staff_hits = tenant_selectors.tenant_memory_search(tenant=owner.member.tenant, query="zanzibar")
    assert _texts(staff_hits) == ["My zanzibar passport number is in the safe"]
    assert all(r.app_id == owner.member.tenant.slug for r in staff_hits)


@pytest.mark.parametrize("query", [
    "*", "&", "|", "!", "(", ")", ":*", "&|!():*", "a & b | !c", "seat:*", "'", "''", "\\", "!!!(((", "<->",
    "vegetarian & !", "x <-> y", "ünïcödé ß", "1 2 3", "a" * 2000, "word " * 400,
])
def test_hostile_queries_are_safe(owner, colleague, query):
    _add(owner.member, "I am vegetarian")
    _add(colleague.member, "I like window seats")
    hits = selectors.memory_search(member=owner.member, query=query, floor=False)
    assert {h.subject_id for h in hits} <= {owner.member.subject_id}


@pytest.mark.parametrize("query", ["", "   ", None, ["seats"], {"$ne": 1}])
def test_empty_or_non_text_queries_are_refused(owner, query):
    with pytest.raises(InvalidInput):
        selectors.memory_search(member=owner.member, query=query)


def test_query_words_are_plain_words_only():
    assert ranking.query_words("seat:* & (aisle | !window)") == ["seat", "aisle", "window"]
    assert len(ranking.query_words(" ".join(f"w{i}" for i in range(100)))) == ranking.MAX_WORDS


def test_the_search_text_expression_is_the_indexed_one(owner):
    # The search's to_tsvector expression must be the index's, character for character, or no
    # plan can use it. (Which plan is chosen depends on the table's size: at 1M rows the
    # keyword lists read this index alone, docs/benchmarks.md; on a test's few rows, the btree.)
    _add(owner.member, "I like window seats")
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(
            f"EXPLAIN SELECT id FROM {TABLE} WHERE {ranking.TSV_SQL} @@ "
            f"plainto_tsquery('{ranking.TS_CONFIG}'::regconfig, %s)", ["seats"],
        )
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert f"{TABLE}_user_fts_idx" in plan, plan


def test_erasing_a_memory_leaves_nothing_the_text_search_can_find(owner):
    # The full-text index is an expression index on the vector row (no side table, no column):
    # erasing the row through the registry's Vectors store takes its index entry with it.
    _add(owner.member, "My zanzibar passport number is in the safe")
    memory = selectors.memory_search(member=owner.member, query="zanzibar")[0]
    services.memory_delete(member=owner.member, memory_id=memory.id)

    def found() -> int:
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute(
                f"SELECT count(*) FROM {TABLE} WHERE {ranking.TSV_SQL} @@ "
                f"plainto_tsquery('{ranking.TS_CONFIG}'::regconfig, 'zanzibar')"
            )
            by_index = cur.fetchone()[0]
            cur.execute(f"SELECT count(*) FROM {TABLE} WHERE payload::text ILIKE '%%zanzibar%%'")
            return by_index + cur.fetchone()[0]

    assert found() == 0
    assert selectors.memory_search(member=owner.member, query="zanzibar", floor=False) == []
