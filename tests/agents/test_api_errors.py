"""Bad input answers 400 JSON {error, field}; rate limits answer 429; CSRF is not needed for tokens."""

from __future__ import annotations

import pytest
from django.test import Client

from memportal.memory.models import Membership

pytestmark = pytest.mark.django_db


def _post(client, key, path, body, **kw):
    return client.post(path, body, content_type="application/json", headers={"Authorization": f"Token {key}"}, **kw)


@pytest.mark.parametrize("body, field", [
    ("not json", "body"),
    ([], "body"),
    ({"messages": "hi", "user_id": "al", "surprise": 1}, "surprise"),
    ({"messages": "hi", "user_id": "*"}, "user_id"),
    ({"messages": "hi", "user_id": ["a"]}, "user_id"),
    ({"messages": "hi", "user_id": "al", "run_id": {"$ne": 1}}, "run_id"),
    ({"messages": "x" * 3000, "user_id": "al"}, "messages"),
    ({"messages": [{"role": "hacker", "content": "x"}], "user_id": "al"}, "messages[0].role"),
    ({"messages": "hi"}, "user_id"),
])
def test_add_rejects_bad_input_and_stores_nothing(client, concierge_key, body, field):
    response = _post(client, concierge_key, "/v3/memories/add/", body)
    assert response.status_code == 400
    assert response.json()["field"] == field and response.json()["error"]
    assert not Membership.objects.filter(external_id="al").exists()


@pytest.mark.parametrize("filters", [
    None, {}, {"NOT": [{"user_id": "a"}]}, {"user_id": {"ne": "a"}}, {"metadata": {"x": 1}},
    {"app_id": "concierge_app"}, {"OR": []}, {"user_id": "a b"},
])
def test_get_all_rejects_bad_filters(client, concierge_key, filters):
    response = _post(client, concierge_key, "/v3/memories/", {"filters": filters})
    assert response.status_code == 400 and response.json()["field"].startswith("filters")


@pytest.mark.parametrize("query, field", [
    ("page=50082586554112736755712", "page"),  # found by the fuzzer: an OFFSET beyond bigint was a 500
    ("page=0", "page"),
    ("page=1&page_size=1001", "page_size"),
    ("page=abc", "page"),
])
def test_get_all_rejects_out_of_range_paging(client, concierge_key, query, field):
    response = _post(client, concierge_key, f"/v3/memories/?{query}", {"filters": {"user_id": "alice"}})
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_csrf_is_not_required_for_token_requests(concierge_key):
    strict = Client(enforce_csrf_checks=True)
    assert _post(strict, concierge_key, "/v3/memories/", {"filters": {"user_id": "a"}}).status_code == 200


def test_rate_limit_per_key(client, make_key, settings):
    settings.MEMPORTAL = {**settings.MEMPORTAL, "API_RATE_LIMIT": 3}
    key, other = make_key(), make_key()
    codes = [client.get("/v1/ping/", headers={"Authorization": f"Token {key}"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert client.get("/v1/ping/", headers={"Authorization": f"Token {other}"}).status_code == 200


def test_unknown_user_reads_are_empty_and_create_nobody(client, concierge_key):
    response = _post(client, concierge_key, "/v3/memories/", {"filters": {"user_id": "ghost"}})
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert _post(client, concierge_key, "/v3/memories/search/",
                 {"query": "x", "filters": {"user_id": "ghost"}}).json() == {"results": []}
    assert not Membership.objects.filter(external_id="ghost").exists()


def test_malformed_and_missing_ids_are_404(client, concierge_key):
    auth = {"Authorization": f"Token {concierge_key}"}
    for memory_id in ("nope", "00000000-0000-0000-0000-000000000000"):
        assert client.get(f"/v1/memories/{memory_id}/", headers=auth).status_code == 404


def test_openapi_lists_unimplemented_endpoints(client):
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "/v3/memories/search/" in doc["paths"]
    assert "/v1/batch/" in doc["paths"] and any("profiles" in item for item in doc["info"]["x-unimplemented"])


@pytest.mark.django_db
@pytest.mark.parametrize("method, path", [
    ("GET", "/v1/nope/"), ("POST", "/v2/entities/x/"), ("DELETE", "/api/v1/unknown"), ("PUT", "/v9/memories/"),
    ("GET", "/v1/memories/abc/history/extra/"),
])
def test_unknown_api_paths_answer_json_404_never_html(client, method, path):
    response = client.generic(method, path)
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()
