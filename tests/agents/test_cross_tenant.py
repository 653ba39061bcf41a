"""A sports_brand_portal key can never read, find, page, export or delete a concierge_app memory."""

from __future__ import annotations

import json

import pytest
import requests

from memportal.memory.client import platform_errors
from memportal.memory.models import Tenant
from memportal.memory.records import TABLE
from tests.agents.conftest import texts

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "Concierge secret: alice is vegetarian"
HOSTILE_FILTERS = [
    {"user_id": "alice"}, {"user_id": "*"}, {"app_id": "concierge_app", "user_id": "*"},
    {"AND": [{"user_id": "alice"}, {"app_id": "concierge_app"}]},
    {"OR": [{"user_id": "alice"}, {"user_id": "*"}, {"agent_id": "*"}, {"run_id": "*"}]},
    {"user_id": {"in": ["alice", "jane"]}}, {"agent_id": "travel_planner"}, {"agent_id": "*"},
    {"app_id": "*", "user_id": "*"}, {"run_id": "tokyo"},
]


def _count(where: str = "TRUE", params: list | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE {where}", params or [])
        return cur.fetchone()[0]


@pytest.fixture
def seeded(mem0_client, concierge_key, sports_key):
    concierge = mem0_client(concierge_key)
    memory_id = concierge.add(SECRET, user_id="alice", agent_id="travel_planner", run_id="tokyo")["results"][0]["id"]
    sports = mem0_client(sports_key)
    sports.add("Jane runs marathons", user_id="jane")
    return concierge, sports, memory_id


def test_foreign_key_cannot_search_list_or_page(seeded):
    _, sports, _ = seeded
    for filters in HOSTILE_FILTERS:
        assert SECRET not in texts(sports.search("vegetarian secret", filters=filters))
        for page in (1, 2):
            result = sports.get_all(filters=filters, page=page, page_size=1)
            assert SECRET not in texts(result)


def test_foreign_key_cannot_get_update_history_or_delete_by_id(seeded):
    _, sports, memory_id = seeded
    for call in (lambda: sports.get(memory_id), lambda: sports.history(memory_id),
                 lambda: sports.update(memory_id, text="pwned"), lambda: sports.delete(memory_id)):
        with pytest.raises(platform_errors()) as err:
            call()
        assert "not found" in str(err.value).lower()
    assert _count("id = %s AND payload->>'data' = %s", [memory_id, SECRET]) == 1


def test_foreign_key_cannot_export(seeded):
    _, sports, _ = seeded
    for filters in HOSTILE_FILTERS:
        export = sports.create_memory_export(schema="{}", filters=filters)
        body = sports.get_memory_export(memory_export_id=export["id"])
        assert SECRET not in json.dumps(body)
        assert SECRET not in json.dumps(sports.get_memory_export(filters=filters))


def test_foreign_key_cannot_delete(seeded):
    concierge, sports, _ = seeded
    sports.delete_all(user_id="alice")
    sports.delete_all(agent_id="travel_planner")
    sports.delete_all(run_id="tokyo")
    with pytest.raises(platform_errors()):
        sports.delete_all(app_id="concierge_app")  # even with tenant_admin: 404 like a missing app
    assert texts(concierge.get_all(filters={"user_id": "alice"})) == {SECRET}
    assert Tenant.objects.get(slug="concierge_app").offboarded_at is None


def test_foreign_key_cannot_reach_concierge_export_by_id(seeded):
    concierge, sports, _ = seeded
    export = concierge.create_memory_export(schema="{}", filters={"user_id": "alice"})
    assert SECRET in json.dumps(concierge.get_memory_export(memory_export_id=export["id"]))
    with pytest.raises(platform_errors()):
        sports.get_memory_export(memory_export_id=export["id"])


def test_foreign_key_cannot_open_a_portal_link_for_the_other_tenants_person(seeded, live_api, sports_key):
    response = requests.post(f"{live_api}/api/v1/portal-sessions", json={"user_id": "alice"},
                             headers={"Authorization": f"Token {sports_key}"}, timeout=30)
    assert response.status_code == 201
    # It names sports_brand_portal's own "alice" (a new, empty person), never concierge_app's.
    from memportal.memory.models import Membership

    assert Membership.objects.filter(external_id="alice", tenant__slug="sports_brand_portal").exists()


def test_revoked_key_gets_401(mem0_client, live_api, make_key):
    from memportal.agents.models import AppKey
    from memportal.agents.services import appkey_revoke

    raw = make_key("concierge_app")
    client = mem0_client(raw)
    client.add("hello", user_id="alice")
    appkey_revoke(key=AppKey.objects.get())
    response = requests.post(f"{live_api}/v3/memories/", json={"filters": {"user_id": "alice"}},
                             headers={"Authorization": f"Token {raw}"}, timeout=30)
    assert response.status_code == 401
    with pytest.raises(ValueError):
        mem0_client(raw)  # the client's own key check (ping) refuses it too


def test_expired_and_unknown_keys_get_401(live_api, make_key):
    from datetime import timedelta

    from django.utils import timezone

    expired = make_key("concierge_app", expires_at=timezone.now() - timedelta(seconds=1))
    for header in (f"Token {expired}", "Token mpk_deadbeef_" + "x" * 40, "Token nonsense", ""):
        response = requests.get(f"{live_api}/v1/ping/", headers={"Authorization": header}, timeout=30)
        assert response.status_code == 401, header


def test_key_without_tenant_admin_cannot_delete_the_tenant(mem0_client, make_key):
    client = mem0_client(make_key("concierge_app", ("read", "write")))
    client.add("keep me", user_id="alice")
    with pytest.raises(platform_errors()) as err:
        client.delete_all(app_id="concierge_app")
    assert "tenant-admin" in str(err.value)
    assert texts(client.get_all(filters={"user_id": "alice"})) == {"keep me"}


def test_tenant_admin_key_starts_the_offboarding_job_only_when_confirmed(mem0_client, make_key, django_user_model):
    from memportal.offboarding.models import OffboardingJob

    root = django_user_model.objects.create_superuser(username="root_api", email="root_api@example.com")
    client = mem0_client(make_key("concierge_app", ("read", "write", "tenant_admin"), created_by=root))
    client.add("bye", user_id="alice")
    with pytest.raises(platform_errors()) as err:
        client.delete_all(app_id="concierge_app")  # the platform's call shape alone is not enough
    assert "confirm_app_id" in str(err.value) and not OffboardingJob.objects.exists()
    answer = client.delete_all(app_id="concierge_app", confirm_app_id="concierge_app")
    assert "job_id" in answer
    job = OffboardingJob.objects.get(pk=answer["job_id"])
    assert job.tenant.slug == "concierge_app" and job.requested_by == root


def test_read_only_key_cannot_write(mem0_client, make_key):
    client = mem0_client(make_key("concierge_app", ("read",)))
    with pytest.raises(platform_errors()) as err:
        client.add("nope", user_id="alice")
    assert "write" in str(err.value)
