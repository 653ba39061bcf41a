"""A person's per-app stops, as the API enforces them (memportal.access.member_intent_check):
"stop remembering" refuses writes for them with 423, "stop reading" refuses every read naming
them with 423 and leaves them out of every read that names nobody (wildcards, agent or session
only, entity lists, exports). Erasure is never refused. Another person and another tenant are
untouched."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from memportal.memory import services
from memportal.memory.models import Membership, MemoryRead
from tests.factories import tenant

SECRET = "erin secret stopped-reading q7"
FRED = "fred keeps this f3"
JANE = "jane in the other tenant j9"


def _api(client: Client, key: str, method: str, path: str, body: dict | None = None, **query):
    kwargs = {"HTTP_AUTHORIZATION": f"Token {key}", "content_type": "application/json"}
    if body is not None:
        kwargs["data"] = json.dumps(body)
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return getattr(client, method)(path, **kwargs)


@pytest.fixture
def world(db, make_key):
    tenant("sports_brand_portal")
    key, other = make_key("concierge_app"), make_key("sports_brand_portal")
    client = Client()
    ids = {}
    for who, text, k in (("erin", SECRET, key), ("fred", FRED, key), ("jane", JANE, other)):
        response = _api(client, k, "post", "/v1/memories/",
                        {"messages": text, "user_id": who, "agent_id": "chef", "run_id": "r1", "infer": False})
        assert response.status_code == 200, response.content
        ids[who] = response.json()["results"][0]["id"]
    erin = Membership.objects.get(tenant__slug="concierge_app", external_id="erin")
    return client, key, other, ids, erin


def _body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def test_reads_naming_a_stopped_reading_person_answer_423_with_a_json_detail(world):
    client, key, _, ids, erin = world
    services.memory_reads_stop_set(member=erin, stopped=True)
    for method, path, body in (
        ("post", "/v2/memories/", {"filters": {"user_id": "erin"}}),
        ("post", "/v2/memories/search/", {"query": "secret", "filters": {"user_id": "erin"}}),
        ("post", "/v2/memories/", {"filters": {"OR": [{"user_id": "fred"}, {"user_id": "erin"}]}}),
        ("get", f"/v1/memories/{ids['erin']}/", None),
        ("get", f"/v1/memories/{ids['erin']}/history/", None),
        ("post", "/v1/exports/", {"user_id": "erin"}),
        ("post", "/v1/exports/get/", {"filters": {"user_id": "erin"}}),
    ):
        response = _api(client, key, method, path, body)
        assert response.status_code == 423, (path, response.status_code)
        assert "stopped this app from reading" in response.json()["detail"]
        assert SECRET not in response.content.decode()
    assert not MemoryRead.objects.filter(subject_id=erin.subject_id).exists()


def test_reads_naming_nobody_leave_a_stopped_reading_person_out(world):
    client, key, _, ids, erin = world
    services.memory_reads_stop_set(member=erin, stopped=True)
    for method, path, body in (
        ("post", "/v2/memories/", {"filters": {"user_id": "*"}}),
        ("post", "/v2/memories/", {"filters": {"agent_id": "chef"}}),  # an agent only
        ("post", "/v2/memories/", {"filters": {"run_id": "r1"}}),
        ("post", "/v2/memories/search/", {"query": "secret stopped reading", "filters": {"agent_id": "chef"}}),
        ("post", "/v1/exports/get/", {"filters": {"agent_id": "*"}}),
        ("get", "/v1/entities/", None),
    ):
        response = _api(client, key, method, path, body)
        assert response.status_code == 200, (path, response.status_code)
        text = _body(response)
        assert SECRET not in text and ids["erin"] not in text and '"erin"' not in text, path
        if path != "/v1/entities/":
            assert FRED in text, path  # the others are still returned
    assert not MemoryRead.objects.filter(subject_id=erin.subject_id).exists()


def test_resuming_reading_returns_the_memories_again(world):
    client, key, _, ids, erin = world
    services.memory_reads_stop_set(member=erin, stopped=True)
    services.memory_reads_stop_set(member=erin, stopped=False)
    response = _api(client, key, "post", "/v2/memories/", {"filters": {"user_id": "erin"}})
    assert response.status_code == 200 and SECRET in response.content.decode()


def test_a_stopped_reading_person_may_still_be_written_for_and_erased_but_nothing_is_returned(world):
    client, key, _, ids, erin = world
    services.memory_reads_stop_set(member=erin, stopped=True)
    # Adding the same text again: a read key would see the existing memory (NOOP); not any more.
    again = _api(client, key, "post", "/v1/memories/", {"messages": SECRET, "user_id": "erin", "infer": False})
    assert again.status_code == 200 and ids["erin"] not in again.content.decode()
    put = _api(client, key, "put", f"/v1/memories/{ids['erin']}/", {"text": "erin corrected q8"})
    assert put.status_code == 200 and set(put.json()) == {"id", "memory", "message"}
    assert _api(client, key, "delete", f"/v1/memories/{ids['erin']}/").status_code == 200


def test_writes_for_a_stopped_remembering_person_answer_423_and_store_nothing(world):
    client, key, _, ids, erin = world
    services.memory_pause_set(member=erin, paused=True)
    for method, path, body in (
        ("post", "/v1/memories/", {"messages": "erin new thing n1", "user_id": "erin", "infer": False}),
        ("post", "/v3/memories/add/", {"messages": "erin new thing n1", "user_id": "erin", "infer": False}),
        ("put", f"/v1/memories/{ids['erin']}/", {"text": "erin new thing n1"}),
        ("put", "/v1/batch/", {"memories": [{"memory_id": ids["erin"], "text": "erin new thing n1"}]}),
        ("post", "/v1/feedback/", {"memory_id": ids["erin"], "feedback": "POSITIVE"}),
    ):
        response = _api(client, key, method, path, body)
        assert response.status_code == 423, (path, response.status_code)
        assert "paused" in response.json()["detail"]
    from tests.scan import database_find

    assert database_find(["erin new thing n1"]) == []
    # Reads and erasure still work; the other person is untouched.
    assert SECRET in _api(client, key, "post", "/v2/memories/", {"filters": {"user_id": "erin"}}).content.decode()
    fred = _api(client, key, "post", "/v1/memories/", {"messages": "fred more m2", "user_id": "fred", "infer": False})
    assert fred.status_code == 200


def test_another_tenants_key_is_untouched_by_a_stop_and_never_sees_the_person(world):
    client, _, other, ids, erin = world
    services.memory_reads_stop_set(member=erin, stopped=True)
    assert _api(client, other, "get", f"/v1/memories/{ids['erin']}/").status_code == 404  # not 423: not theirs
    response = _api(client, other, "post", "/v2/memories/", {"filters": {"user_id": "erin"}})
    assert response.status_code == 200 and response.json()["results"] == []
    assert JANE in _api(client, other, "post", "/v2/memories/", {"filters": {"user_id": "*"}}).content.decode()
