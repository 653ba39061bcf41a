"""The rest of the platform client's methods, with the real MemoryClient against a live server:
entities, batches, feedback, summary, events, project; and refusals that are JSON, never HTML."""

from __future__ import annotations

import pytest
from django.db import connection

from memportal.memory.client import platform_errors
from memportal.memory.models import ErasureReceipt, MemoryFeedback
from tests.agents.conftest import texts

pytestmark = pytest.mark.django_db(transaction=True)


def _count(app_id: str) -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM memportal_memories WHERE payload->>'app_id' = %s", [app_id])
        return cur.fetchone()[0]


def _ids(client, user_id: str) -> list[str]:
    return [m["id"] for m in client.get_all(filters={"user_id": user_id})["results"]]


def test_users_lists_the_tenant_first_then_its_people_agents_and_runs(mem0_client, concierge_key, sports_key):
    client = mem0_client(concierge_key)
    client.add("Alice likes tea", user_id="alice", agent_id="chef", run_id="r1")
    client.add("Bob likes coffee", user_id="bob")
    mem0_client(sports_key).add("Jane runs", user_id="jane")
    results = client.users()["results"]
    assert results[0]["type"] == "app" and results[0]["name"] == "concierge_app" and results[0]["total_memories"] == 2
    listed = {(e["type"], e["name"]): e["total_memories"] for e in results[1:]}
    assert listed == {("user", "alice"): 1, ("user", "bob"): 1, ("agent", "chef"): 1, ("run", "r1"): 1}


def test_delete_users_for_one_person_erases_only_them_with_a_receipt(mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    client.add("Alice likes tea", user_id="alice")
    client.add("Bob likes coffee", user_id="bob")
    client.delete_users(user_id="alice")
    assert texts(client.get_all(filters={"user_id": "alice"})) == set()
    assert texts(client.get_all(filters={"user_id": "bob"})) == {"Bob likes coffee"}
    assert ErasureReceipt.objects.filter(kind="all", requested_via="api").count() == 1


def test_delete_users_and_reset_without_arguments_delete_nothing(mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    client.add("Alice likes tea", user_id="alice")
    for call in (client.delete_users, client.reset):
        with pytest.raises(platform_errors()) as err:
            call()
        assert "tenant-admin" in str(err.value)
    assert _count("concierge_app") == 1


def test_batch_update_and_delete_are_all_or_nothing_and_owner_checked(mem0_client, concierge_key, sports_key):
    client, sports = mem0_client(concierge_key), mem0_client(sports_key)
    client.add("Alice one", user_id="alice")
    client.add("Alice two", user_id="alice")
    sports.add("Jane one", user_id="jane")
    mine, foreign = _ids(client, "alice"), _ids(sports, "jane")
    with pytest.raises(platform_errors()):
        client.batch_update([{"memory_id": mine[0], "text": "changed"}, {"memory_id": foreign[0], "text": "pwned"}])
    assert texts(client.get_all(filters={"user_id": "alice"})) == {"Alice one", "Alice two"}
    assert texts(sports.get_all(filters={"user_id": "jane"})) == {"Jane one"}
    client.batch_update([{"memory_id": m, "text": f"corrected {n}"} for n, m in enumerate(mine)])
    assert texts(client.get_all(filters={"user_id": "alice"})) == {"corrected 0", "corrected 1"}
    with pytest.raises(platform_errors()):
        client.batch_delete([{"memory_id": mine[0]}, {"memory_id": foreign[0]}])
    assert _count("concierge_app") == 2 and _count("sports_brand_portal") == 1
    client.batch_delete([{"memory_id": m} for m in mine])
    assert _count("concierge_app") == 0


def test_feedback_is_stored_for_the_owner_and_refused_for_a_foreign_memory(mem0_client, concierge_key, sports_key):
    client, sports = mem0_client(concierge_key), mem0_client(sports_key)
    client.add("Alice likes tea", user_id="alice")
    memory_id = _ids(client, "alice")[0]
    client.feedback(memory_id, "NEGATIVE", "outdated")
    assert MemoryFeedback.objects.get().reason == "outdated"
    with pytest.raises(platform_errors()):
        sports.feedback(memory_id, "POSITIVE")
    assert MemoryFeedback.objects.count() == 1
    client.delete_all(user_id="alice")
    assert MemoryFeedback.objects.count() == 0  # erased with the memory (erasure registry)


def test_summary_and_profiles_say_honestly_what_is_missing(mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    with pytest.raises(platform_errors()) as err:
        client.get_summary()
    assert "language model" in str(err.value)
    with pytest.raises(platform_errors()) as err:
        client.get_profile("alice")
    assert "profiles" in str(err.value) and "<html" not in str(err.value).lower()


def test_events_list_adds_updates_and_erasures_without_text(mem0_client, concierge_key, sports_key):
    client = mem0_client(concierge_key)
    client.add("Alice secret plan", user_id="alice")
    memory_id = _ids(client, "alice")[0]
    client.update(memory_id, text="Alice other plan")
    client.delete(memory_id)
    import requests

    response = requests.get(f"{client.host}/v1/events/", headers={"Authorization": f"Token {concierge_key}"},
                            timeout=30)
    events = response.json()["results"]
    kinds = [e["event_type"] for e in events]
    assert "ERASURE_MEMORY" in kinds and "secret" not in response.text
    erasure = next(e for e in events if e["event_type"] == "ERASURE_MEMORY")
    assert erasure["status"] == "SUCCEEDED" and erasure["user_id"] == "alice"
    one = requests.get(f"{client.host}/v1/event/{erasure['id']}/", headers={"Authorization": f"Token {concierge_key}"},
                       timeout=30)
    assert one.status_code == 200 and one.json()["id"] == erasure["id"]
    other = requests.get(f"{client.host}/v1/event/{erasure['id']}/", headers={"Authorization": f"Token {sports_key}"},
                         timeout=30)
    assert other.status_code == 404


def test_the_tenant_reads_as_the_clients_project(mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    project = client.project.get()
    assert project["id"] == "concierge_app" and project["name"] == "Concierge App"
    with pytest.raises(platform_errors()) as err:
        client.project.update(custom_instructions="be brief")
    assert "not available" in str(err.value)


def test_offline_inference_keeps_only_what_the_person_said_once_and_says_so(mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    conversation = [{"role": "system", "content": "You are a concierge"},
                    {"role": "user", "content": "I am vegetarian"},
                    {"role": "assistant", "content": "Noted."}]
    first = client.add(conversation, user_id="alice")
    assert [r["event"] for r in first["results"]] == ["ADD"] and first["inference"] == "skipped"
    assert "no language model" in first["message"]
    again = client.add(conversation, user_id="alice")  # the program is run a second time
    assert [(r["event"], r["memory"]) for r in again["results"]] == [("NOOP", "I am vegetarian")]
    assert texts(client.get_all(filters={"user_id": "alice"})) == {"I am vegetarian"}
    verbatim = client.add(conversation, user_id="bob", infer=False)
    assert verbatim["inference"] == "off"
    assert texts(client.get_all(filters={"user_id": "bob"})) == {"I am vegetarian", "Noted."}
