"""Hostile request encodings get a 400 with a JSON detail, and nothing is stored or erased.

Each case here was a 500 (or a silent wrong answer) before the JSON body and query parameter
checks in ``memportal.agents.api.base``: lone surrogates psycopg cannot encode, NaN/Infinity
PostgreSQL's jsonb refuses, nesting that made the parsers recurse until RecursionError, and
repeated parameters or keys where the last one silently won (``?user_id=nobody&user_id=victim``
erased the victim).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memportal.memory.models import Membership
from memportal.memory.records import TABLE

pytestmark = pytest.mark.django_db

VICTIM_TEXTS = ["Victim lives at 1 Secret Lane", "Victim's passport is X123", "Victim is allergic to nuts"]


def _memory_count() -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE}")
        return cur.fetchone()[0]


def _send(client, key: str, method: str, path: str, body: str | bytes | None = None):
    """A raw body (str or bytes) exactly as given: the test client must not re-encode it."""
    headers = {"Authorization": f"Token {key}"}
    call = getattr(client, method.lower())
    if body is None:
        return call(path, headers=headers)
    return call(path, body, content_type="application/json", headers=headers)


def _assert_refused(response, *, detail_has: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    payload = response.json()
    assert detail_has in payload["detail"], payload
    if field is not None:
        assert payload["field"] == field, payload
    return payload


@pytest.fixture
def victim(client, concierge_key) -> str:
    """Three memories of user "victim", stored through the API; returns one memory id."""
    ids = []
    for text in VICTIM_TEXTS:
        response = _send(client, concierge_key, "POST", "/v3/memories/add/",
                         f'{{"messages": "{text}", "user_id": "victim"}}')
        assert response.status_code == 200, response.content
        ids.append(response.json()["results"][0]["id"])
    assert _memory_count() == len(VICTIM_TEXTS)
    return ids[0]


def _victim_texts() -> set[str]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT payload->>'data' FROM {TABLE} WHERE payload->>'user_id' IS NOT NULL")
        return {row[0] for row in cur.fetchall()}


# --- 1. lone surrogates ---------------------------------------------------------------------------
# JSON's "\ud800" escape decodes to a Python str that UTF-8 (and so psycopg) cannot encode.
SURROGATE_ADDS = [
    ('{"messages": "I like \\ud800 tea", "user_id": "al"}', "messages"),
    ('{"messages": [{"role": "user", "content": "tea \\udfff"}], "user_id": "al"}', "messages[0].content"),
    ('{"messages": [{"role": "user", "content": "tea", "name": "\\ud800"}], "user_id": "al"}',
     "messages[0].name"),
    ('{"messages": "tea", "user_id": "al", "metadata": {"\\ud800": "x"}}', "metadata"),
    ('{"messages": "tea", "user_id": "al", "metadata": {"mood": "\\ud800"}}', "metadata.mood"),
    ('{"messages": "tea", "user_id": "al", "metadata": {"a": {"b": ["ok", "\\udc00"]}}}', "metadata.a.b[1]"),
    ('{"messages": "tea", "user_id": "\\ud800"}', "user_id"),
    ('{"messages": "tea", "user_id": "al", "agent_id": "a\\ud800"}', "agent_id"),
    ('{"messages": "tea", "user_id": "al", "run_id": "\\udbff"}', "run_id"),
    ('{"messages": "tea", "user_id": "al", "\\ud800": 1}', "body"),
    ('{"messages": "tea", "filters": {"user_id": "\\ud800"}}', "filters.user_id"),
]


@pytest.mark.parametrize("body, field", SURROGATE_ADDS)
def test_add_with_a_lone_surrogate_is_400_and_stores_nothing(client, concierge_key, body, field):
    response = _send(client, concierge_key, "POST", "/v3/memories/add/", body)
    _assert_refused(response, detail_has="unpaired surrogate", field=field)
    assert _memory_count() == 0
    assert not Membership.objects.filter(external_id="al").exists()


def test_a_surrogate_encoded_as_raw_bytes_is_refused_too(client, concierge_key):
    # json decodes bodies with "surrogatepass", so ED A0 80 (a UTF-8-encoded surrogate) got through.
    body = b'{"messages": "tea \xed\xa0\x80", "user_id": "al"}'
    _assert_refused(_send(client, concierge_key, "POST", "/v3/memories/add/", body),
                    detail_has="unpaired surrogate", field="messages")
    assert _memory_count() == 0


def test_a_surrogate_pair_is_a_real_character_and_is_accepted(client, concierge_key):
    response = _send(client, concierge_key, "POST", "/v3/memories/add/",
                     '{"messages": "I love \\ud83c\\udf75 tea", "user_id": "al", "metadata": {"e": "\\ud83c\\udf75"}}')
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["memory"] == "I love \U0001f375 tea"
    assert _memory_count() == 1


@pytest.mark.parametrize("method, path, body, field", [
    ("POST", "/v3/memories/search/", '{"query": "where \\ud800", "filters": {"user_id": "victim"}}', "query"),
    ("POST", "/v3/memories/search/", '{"query": "x", "filters": {"user_id": {"in": ["victim", "\\ud800"]}}}',
     "filters.user_id.in[1]"),
    ("POST", "/v3/memories/", '{"filters": {"OR": [{"user_id": "victim"}, {"run_id": "\\udfff"}]}}',
     "filters.OR[1].run_id"),
    ("POST", "/v1/exports/", '{"filters": {"user_id": "victim"}, "schema": "\\ud800"}', "schema"),
    ("POST", "/v1/exports/get/", '{"memory_export_id": "\\ud800"}', "memory_export_id"),
    ("POST", "/api/v1/portal-sessions", '{"user_id": "victim", "return_url": "https://x/\\ud800"}', "return_url"),
    ("PUT", "/v1/memories/{id}/", '{"text": "moved to \\ud800"}', "text"),
])
def test_every_endpoint_refuses_a_lone_surrogate_and_changes_nothing(client, concierge_key, victim, method, path,
                                                                     body, field):
    response = _send(client, concierge_key, method, path.format(id=victim), body)
    _assert_refused(response, detail_has="unpaired surrogate", field=field)
    assert _victim_texts() == set(VICTIM_TEXTS)


# --- 2. NaN and Infinity ----------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    '{"messages": "tea", "user_id": "al", "metadata": {"score": NaN}}',
    '{"messages": "tea", "user_id": "al", "metadata": {"score": Infinity}}',
    '{"messages": "tea", "user_id": "al", "metadata": {"score": [-Infinity]}}',
    '{"messages": "tea", "user_id": "al", "metadata": {"score": 1e999}}',  # a float that overflows to inf
])
def test_add_with_non_finite_numbers_is_400_and_stores_nothing(client, concierge_key, body):
    _assert_refused(_send(client, concierge_key, "POST", "/v3/memories/add/", body),
                    detail_has="not a finite number", field="body")
    assert _memory_count() == 0
    assert not Membership.objects.filter(external_id="al").exists()


@pytest.mark.parametrize("extra", ['"threshold": NaN', '"top_k": Infinity', '"threshold": -Infinity'])
def test_search_with_non_finite_numbers_is_400(client, concierge_key, victim, extra):
    body = f'{{"query": "where", "filters": {{"user_id": "victim"}}, {extra}}}'
    _assert_refused(_send(client, concierge_key, "POST", "/v3/memories/search/", body),
                    detail_has="not a finite number", field="body")


# --- 3. deep nesting ----------------------------------------------------------------------------------
def _nested_and(depth: int) -> str:
    return '{"AND": [' * depth + '{"user_id": "victim"}' + "]}" * depth


def _nested_in(depth: int) -> str:
    return '{"in": [' * depth + '"victim"' + "]}" * depth


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/v3/memories/add/", "[" * 100_000),
    ("POST", "/v3/memories/add/", '{"messages": "tea", "user_id": "al", "metadata": {"x": ' + "[" * 100_000 + "}}"),
    ("POST", "/v3/memories/search/", '{"query": "x", "filters": ' + _nested_and(3000) + "}"),
    ("POST", "/v3/memories/", '{"filters": {"user_id": ' + _nested_in(3000) + "}}"),
    ("POST", "/v1/exports/", '{"filters": {"OR": [' + _nested_and(3000) + "]}}"),
])
def test_deeply_nested_bodies_are_400_before_parsing(client, concierge_key, victim, method, path, body):
    _assert_refused(_send(client, concierge_key, method, path, body), detail_has="nested too deeply", field="body")
    assert _victim_texts() == set(VICTIM_TEXTS)
    assert not Membership.objects.filter(external_id="al").exists()


def test_brackets_inside_strings_do_not_count_as_nesting(client, concierge_key):
    text = "[{" * 200 + ' \\" ' + "]}" * 10
    response = _send(client, concierge_key, "POST", "/v3/memories/add/", f'{{"messages": "{text}", "user_id": "al"}}')
    assert response.status_code == 200, response.content
    assert _memory_count() == 1


def test_in_nested_within_the_body_limit_is_still_refused_by_the_filter_parser(client, concierge_key, victim):
    response = _send(client, concierge_key, "POST", "/v3/memories/", '{"filters": {"user_id": ' + _nested_in(8) + "}}")
    _assert_refused(response, detail_has="nested too deeply")
    assert response.json()["field"].startswith("filters.user_id")


# --- 5. repeated query parameters -------------------------------------------------------------------------
def test_repeated_user_id_in_delete_all_is_400_and_erases_nobody(client, concierge_key, victim):
    response = _send(client, concierge_key, "DELETE", "/v1/memories/?user_id=nobody&user_id=victim")
    _assert_refused(response, detail_has="given more than once", field="user_id")
    assert _victim_texts() == set(VICTIM_TEXTS)
    assert _memory_count() == len(VICTIM_TEXTS)


@pytest.mark.parametrize("method, path, field", [
    ("DELETE", "/v1/memories/?user_id=victim&user_id=victim", "user_id"),  # even the same value twice
    ("DELETE", "/v1/memories/?user_id=victim&agent_id=a&agent_id=b", "agent_id"),
    ("DELETE", "/v1/memories/?app_id=concierge_app&app_id=other", "app_id"),
    ("DELETE", "/v1/memories/{id}/?org_id=a&org_id=b", "org_id"),
    ("POST", "/v3/memories/?page=1&page=2", "page"),
])
def test_any_repeated_query_parameter_is_400_and_changes_nothing(client, concierge_key, victim, method, path, field):
    body = '{"filters": {"user_id": "victim"}}' if method == "POST" else None
    response = _send(client, concierge_key, method, path.format(id=victim), body)
    _assert_refused(response, detail_has=f"Parameter {field} given more than once", field=field)
    assert _victim_texts() == set(VICTIM_TEXTS)


# --- 6. duplicate keys in one JSON object -------------------------------------------------------------------
def test_duplicate_user_id_key_on_add_is_400_and_stores_nothing(client, concierge_key):
    body = '{"messages": "tea", "user_id": "al", "user_id": "victim"}'
    _assert_refused(_send(client, concierge_key, "POST", "/v3/memories/add/", body),
                    detail_has="more than once", field="user_id")
    assert _memory_count() == 0
    assert not Membership.objects.filter(external_id__in=["al", "victim"]).exists()


def test_duplicate_keys_in_a_filter_do_not_let_the_last_one_win(client, concierge_key, victim):
    body = '{"query": "where", "filters": {"user_id": "nobody", "user_id": "victim"}}'
    response = _send(client, concierge_key, "POST", "/v3/memories/search/", body)
    _assert_refused(response, detail_has="more than once", field="filters.user_id")
    assert "Victim" not in response.content.decode()


def test_duplicate_keys_in_metadata_are_400(client, concierge_key):
    body = '{"messages": "tea", "user_id": "al", "metadata": {"k": 1, "k": 2}}'
    _assert_refused(_send(client, concierge_key, "POST", "/v3/memories/add/", body),
                    detail_has="more than once", field="metadata.k")
    assert _memory_count() == 0


# --- property: generated bodies with surrogates, NaN/Infinity and brackets never 5xx ---------------------
# schemathesis (test_api_fuzz.py) generates only valid UTF-8 text and finite numbers; these
# strategies add exactly what it leaves out.
_TEXT = st.text(st.characters(categories=["Cs"]) | st.sampled_from('ab [{"\\\x00'), max_size=6)
_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


@given(body=st.fixed_dictionaries({"messages": _TEXT | _VALUE, "user_id": st.sampled_from(["al", "\ud800", "*"]),
                                   "metadata": _VALUE}),
       path=st.sampled_from(["/v3/memories/add/", "/v3/memories/search/"]))
@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_generated_hostile_bodies_are_200_or_400_and_a_400_stores_nothing(client, concierge_key, body, path):
    if path.endswith("/search/"):
        body = {"query": body["messages"], "filters": {"user_id": body["user_id"]}, "threshold": body["metadata"]}
    before = _memory_count()
    # ensure_ascii writes lone surrogates as \ud800 escapes; allow_nan writes NaN/Infinity tokens.
    response = _send(client, concierge_key, "POST", path, json.dumps(body, ensure_ascii=True, allow_nan=True))
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["detail"]
        assert _memory_count() == before
