"""The validation cleaners refuse what the database cannot take, for callers other than the API too.

A lone surrogate (psycopg cannot encode it), NaN/Infinity in metadata (jsonb refuses them) and
nesting deep enough to make a recursive walk fail (RecursionError) were 500s from the services;
``single_param`` is the guard for pages that read one scope from a QueryDict.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict

from memportal.agents.api.filters import MAX_DEPTH, filters_parse
from memportal.memory import selectors, services
from memportal.memory.errors import InvalidInput
from memportal.memory.records import TABLE
from memportal.memory.validation import (
    MAX_JSON_DEPTH,
    clean_id,
    clean_metadata,
    clean_text,
    json_problem,
    single_param,
)

pytestmark = pytest.mark.django_db

LONE = "\ud800"


def _memory_count() -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE}")
        return cur.fetchone()[0]


def _nested(depth: int, leaf: Any, wrap) -> Any:
    """``depth`` levels of ``wrap`` around ``leaf``, built in a loop (no recursion to build it)."""
    node = leaf
    for _ in range(depth):
        node = wrap(node)
    return node


@pytest.mark.parametrize("messages, field", [
    (f"I like {LONE} tea", "messages"),
    ([{"role": "user", "content": "tea \udfff"}], "messages[0].content"),
    ([{"role": "user", "content": "tea", "name": LONE}], "messages[0].name"),
])
def test_add_refuses_lone_surrogates_in_messages(owner, messages, field):
    with pytest.raises(InvalidInput) as err:
        services.memory_add(member=owner.member, messages=messages)
    assert err.value.field == field and "unpaired surrogate" in err.value.message
    assert _memory_count() == 0


@pytest.mark.parametrize("metadata, field, words", [
    ({LONE: "x"}, "metadata", "unpaired surrogate"),
    ({"mood": f"ok{LONE}"}, "metadata.mood", "unpaired surrogate"),
    ({"a": {"b": ["ok", LONE]}}, "metadata.a.b[1]", "unpaired surrogate"),
    ({"a": {LONE: 1}}, "metadata.a", "unpaired surrogate"),
    ({"score": float("nan")}, "metadata.score", "finite"),
    ({"score": [float("inf")]}, "metadata.score[0]", "finite"),
    ({"score": float("-inf")}, "metadata.score", "finite"),
    ({"deep": _nested(3000, "x", lambda n: [n])}, "metadata.deep", "nested too deeply"),
    ({"deep": _nested(3000, "x", lambda n: {"k": n})}, "metadata.deep", "nested too deeply"),
])
def test_add_refuses_metadata_the_database_cannot_store(owner, metadata, field, words):
    with pytest.raises(InvalidInput) as err:
        services.memory_add(member=owner.member, messages="hello", metadata=metadata)
    assert err.value.field.startswith(field) and words in err.value.message
    assert _memory_count() == 0


def test_metadata_within_the_depth_limit_and_real_astral_characters_are_stored(owner):
    metadata = {"deep": _nested(MAX_JSON_DEPTH - 2, "\U0001f375", lambda n: [n])}
    record = services.memory_add(member=owner.member, messages="tea \U0001f375", metadata=metadata)[0]
    assert record.text == "tea \U0001f375" and record.metadata == metadata
    assert _memory_count() == 1


def test_update_refuses_a_lone_surrogate_and_keeps_the_text(owner):
    record = services.memory_add(member=owner.member, messages="alice likes tea")[0]
    with pytest.raises(InvalidInput) as err:
        services.memory_update(member=owner.member, memory_id=record.id, text=f"alice likes {LONE}")
    assert err.value.field == "text" and "unpaired surrogate" in err.value.message
    assert selectors.memory_get(member=owner.member, memory_id=record.id).text == "alice likes tea"


def test_search_refuses_a_lone_surrogate_query(owner):
    with pytest.raises(InvalidInput) as err:
        selectors.memory_search(member=owner.member, query=f"tea {LONE}")
    assert err.value.field == "query"


@pytest.mark.parametrize("clean", [
    lambda: clean_text(f"a{LONE}b", field="text"),
    lambda: clean_id(f"al{LONE}", field="user_id"),
    lambda: clean_metadata({"k": LONE}),
])
def test_the_cleaners_name_the_surrogate(clean):
    with pytest.raises(InvalidInput) as err:
        clean()
    assert "unpaired surrogate" in err.value.message


def test_json_problem_walks_a_very_deep_value_without_recursion():
    deep = _nested(100_000, None, lambda n: [n])
    assert json_problem(deep, field="x") == ("x" + "[0]" * MAX_JSON_DEPTH, f"is nested too deeply (more than "
                                                                           f"{MAX_JSON_DEPTH} levels)")


# --- filters (non-API callers build them in Python, deeper than any JSON body may be) ---------------
@pytest.mark.parametrize("filters", [
    _nested(3000, {"user_id": "alice"}, lambda n: {"AND": [n]}),
    _nested(3000, {"user_id": "alice"}, lambda n: {"OR": [n, {"user_id": "bob"}]}),
    {"user_id": _nested(3000, "alice", lambda n: {"in": [n]})},
    {"AND": [{"user_id": "alice"}, {"run_id": _nested(3000, "r1", lambda n: {"in": [n]})}]},
])
def test_deep_filters_are_refused_before_any_deep_recursion(filters):
    with pytest.raises(InvalidInput) as err:
        filters_parse(filters)
    assert "nested too deeply" in err.value.message


def test_in_one_level_below_the_deepest_and_is_still_allowed():
    filters = _nested(MAX_DEPTH - 1, {"user_id": {"in": ["alice", "bob"]}}, lambda n: {"AND": [n]})
    assert {c.user_id for c in filters_parse(filters)} == {"alice", "bob"}


# --- single_param ------------------------------------------------------------------------------------------
def test_single_param_refuses_a_repeated_parameter():
    with pytest.raises(InvalidInput) as err:
        single_param(QueryDict("agent=nobody&agent=victim"), "agent")
    assert err.value.field == "agent" and "more than once" in err.value.message
    with pytest.raises(InvalidInput):
        single_param(QueryDict("session=s1&session=s1"), "session")


def test_single_param_returns_the_one_value_or_none():
    params = QueryDict("agent=travel&session=")
    assert single_param(params, "agent") == "travel"
    assert single_param(params, "session") == ""
    assert single_param(params, "q") is None
    assert single_param({"agent": "travel"}, "agent") == "travel"
    assert single_param({}, "agent") is None
