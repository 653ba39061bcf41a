"""The platform's v2 filter grammar on get_all, search and exports: every operator, bound as
parameters, never wider than the key's tenant; unknown keys and operators are a 400."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from memportal.agents.services import appkey_create
from tests.factories import tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = Client()
    key = appkey_create(tenant=tenant("concierge_app"), name="t")[1]
    other = appkey_create(tenant=tenant("sports_brand_portal"), name="s")[1]

    def call(path: str, body: dict, *, raw: str = key) -> dict:
        response = client.post(path, body, content_type="application/json", headers={"Authorization": f"Token {raw}"})
        return {"status": response.status_code, "json": response.json()}

    def add(text: str, user: str, *, raw: str = key, **extra) -> str:
        answer = call("/v3/memories/add/", {"messages": [{"role": "user", "content": text}], "user_id": user,
                                            "infer": False, **extra}, raw=raw)
        assert answer["status"] == 200, answer
        return answer["json"]["results"][0]["id"]

    call.add, call.other, call.key = add, other, key
    return call


def _texts(answer: dict) -> set[str]:
    assert answer["status"] == 200, answer
    return {m["memory"] for m in answer["json"]["results"]}


def _backdate(memory_id: str, when: str) -> None:
    with connection.cursor() as cur:
        cur.execute("UPDATE memportal_memories SET payload = payload || jsonb_build_object('created_at', %s::text) "
                    "WHERE id = %s", [when, memory_id])


def test_dates_metadata_keywords_not_and_memory_ids(api):
    old = api.add("Alice liked jazz in 2020", "alice", metadata={"topic": "music", "stars": 4})
    _backdate(old, "2020-05-01T10:00:00+00:00")
    new = api.add("Alice likes opera now", "alice", metadata={"topic": "music", "stars": 5})
    api.add("Alice is vegetarian", "alice", agent_id="chef", metadata={"topic": "food"})
    api.add("Bob likes jazz", "bob", metadata={"topic": "music"})
    mine = {"user_id": "alice"}
    get = lambda f: _texts(api("/v3/memories/", {"filters": f}))  # noqa: E731
    assert get({"AND": [mine, {"created_at": {"lt": "2021-01-01"}}]}) == {"Alice liked jazz in 2020"}
    assert get({"AND": [mine, {"start_date": "2021-01-01"}]}) == {"Alice likes opera now", "Alice is vegetarian"}
    assert get({"AND": [mine, {"metadata": {"topic": "music"}}]}) == {"Alice liked jazz in 2020",
                                                                       "Alice likes opera now"}
    assert get({"AND": [mine, {"metadata": {"stars": {"ne": 4}}}]}) == {"Alice likes opera now",
                                                                         "Alice is vegetarian"}
    assert get({"AND": [mine, {"metadata": {"topic": {"contains": "foo"}}}]}) == {"Alice is vegetarian"}
    assert get({"AND": [mine, {"keywords": {"icontains": "JAZZ"}}]}) == {"Alice liked jazz in 2020"}
    assert get({"AND": [mine, {"NOT": {"agent_id": "chef"}}]}) == {"Alice liked jazz in 2020",
                                                                   "Alice likes opera now"}
    assert get({"AND": [mine, {"agent_id": {"ne": "chef"}}]}) == {"Alice liked jazz in 2020",
                                                                  "Alice likes opera now"}
    assert get({"AND": [mine, {"memory_ids": [new, old]}]}) == {"Alice liked jazz in 2020",
                                                                "Alice likes opera now"}
    # "*" with a keyword: everyone the app named, and still only this tenant.
    api.add("Jane likes jazz", "jane", raw=api.other)
    assert get({"AND": [{"user_id": "*"}, {"keywords": "jazz"}]}) == {"Alice liked jazz in 2020", "Bob likes jazz"}
    search = api("/v3/memories/search/", {"query": "music", "threshold": 0,
                                          "filters": {"AND": [mine, {"keywords": "opera"}]}})
    assert _texts(search) == {"Alice likes opera now"}


def test_a_condition_can_never_widen_past_the_people_named(api):
    api.add("Alice secret", "alice")
    api.add("Bob secret", "bob")
    # NOT on a person does not mean "everyone else": each alternative must still name people.
    assert api("/v3/memories/", {"filters": {"NOT": {"user_id": "alice"}}})["status"] == 400
    assert api("/v3/memories/", {"filters": {"OR": [{"user_id": "alice"}, {"keywords": "secret"}]}})["status"] == 400
    assert _texts(api("/v3/memories/", {"filters": {"AND": [{"user_id": "alice"},
                                                            {"user_id": {"ne": "alice"}}]}})) == set()
    # Another tenant's memory id, or the other tenant named by app_id, finds nothing.
    jane = api.add("Jane secret", "jane", raw=api.other)
    assert _texts(api("/v3/memories/", {"filters": {"AND": [{"user_id": "*"}, {"memory_ids": [jane]}]}})) == set()
    assert _texts(api("/v3/memories/", {"filters": {"AND": [{"user_id": "*"},
                                                            {"app_id": "sports_brand_portal"}]}})) == set()


@pytest.mark.parametrize("bad", [
    {"AND": [{"user_id": "alice"}, {"colour": "red"}]},
    {"AND": [{"user_id": "alice"}, {"created_at": {"between": "2020-01-01"}}]},
    {"AND": [{"user_id": "alice"}, {"created_at": {"gt": "yesterday"}}]},
    {"AND": [{"user_id": "alice"}, {"metadata": {"user_id": "x"}}]},
    {"AND": [{"user_id": "alice"}, {"metadata": {"a b": "x"}}]},
    {"AND": [{"user_id": "alice"}, {"metadata": {"topic": {"regex": ".*"}}}]},
    {"AND": [{"user_id": "alice"}, {"metadata": {"topic": ["a"]}}]},
    {"AND": [{"user_id": "alice"}, {"memory_ids": ["not-a-uuid"]}]},
    {"AND": [{"user_id": "alice"}, {"keywords": ""}]},
    {"AND": [{"user_id": {"ne": "*"}}]},
])
def test_unknown_keys_operators_and_values_are_a_400(api, bad):
    answer = api("/v3/memories/", {"filters": bad})
    assert answer["status"] == 400 and answer["json"]["detail"]


def test_exports_keep_the_whole_filter(api):
    api.add("Alice likes opera", "alice", metadata={"topic": "music"})
    api.add("Alice is vegetarian", "alice", metadata={"topic": "food"})
    made = api("/v1/exports/", {"schema": {}, "filters": {"AND": [{"user_id": "alice"},
                                                                   {"metadata": {"topic": "food"}}]}})
    assert made["status"] == 201
    response = Client().post("/v1/exports/get/", {"memory_export_id": made["json"]["id"]},
                             content_type="application/json", headers={"Authorization": f"Token {api.key}"})
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200 and "Alice is vegetarian" in body and "opera" not in body
