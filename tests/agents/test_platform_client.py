"""The real, unmodified mem0 MemoryClient / AsyncMemoryClient against memportal's API."""

from __future__ import annotations

import asyncio

import pytest

from memportal.memory.client import platform_errors
from memportal.memory.models import Membership
from tests.agents.conftest import texts

pytestmark = pytest.mark.django_db(transaction=True)

CHEF_SCOPE = {"AND": [{"user_id": "cam"}, {"agent_id": "chef_recommender"}, {"app_id": "concierge_app"},
                      {"run_id": "menu-planning-2025-04"}]}


def test_first_seed_flow_keeps_each_person_to_their_own(mem0_client, concierge_key):
    client = mem0_client(concierge_key)  # construction pings /v1/ping/ and reads org/project
    assert client.project_id == "concierge_app"
    client.add([{"role": "user", "content": "I am vegetarian"}], user_id="alice")
    client.add([{"role": "user", "content": "I always want a window seat on flights"}], user_id="bob")

    assert texts(client.search("what do I eat?", filters={"user_id": "alice"})) == {"I am vegetarian"}
    assert texts(client.search("what do I eat?", filters={"user_id": "bob"})) == {
        "I always want a window seat on flights"}
    assert texts(client.get_all(filters={"user_id": "alice"})) == {"I am vegetarian"}

    client.delete_all(user_id="alice")
    assert texts(client.get_all(filters={"user_id": "alice"})) == set()
    assert texts(client.get_all(filters={"user_id": "bob"})) == {"I always want a window seat on flights"}


def test_second_seed_scope_separates_agents_and_user_only_query_returns_both(mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    for text in ("Avoids shellfish", "Prefers boutique hotels"):
        client.add(text, user_id="cam", agent_id="travel_planner", run_id="tokyo-2025-weekend",
                   app_id="concierge_app")
    client.add("Loves Kyoto kaiseki", filters={"user_id": "cam", "agent_id": "chef_recommender",
                                                "run_id": "menu-planning-2025-04", "app_id": "concierge_app"})

    scoped = client.search("food preferences shellfish kaiseki", filters=CHEF_SCOPE)
    assert texts(scoped) == {"Loves Kyoto kaiseki"}
    collision = client.search("food preferences shellfish kaiseki", filters={"user_id": "cam"})
    assert texts(collision) == {"Avoids shellfish", "Prefers boutique hotels", "Loves Kyoto kaiseki"}
    # A whole session can be closed (the second seed's "close a ticket").
    client.delete_all(user_id="cam", run_id="tokyo-2025-weekend")
    assert texts(client.get_all(filters={"user_id": "cam"})) == {"Loves Kyoto kaiseki"}


def test_get_all_pages_correctly_past_20_and_100(mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    for batch in range(3):
        client.add([{"role": "user", "content": f"fact {batch}-{i}"} for i in range(45)], user_id="pager")
    expected = {f"fact {b}-{i}" for b in range(3) for i in range(45)}

    for size in (20, 100):
        seen: list[str] = []
        page = 1
        while True:
            result = client.get_all(filters={"user_id": "pager"}, page=page, page_size=size)
            assert result["count"] == 135
            seen += [m["memory"] for m in result["results"]]
            assert (result["previous"] is None) == (page == 1)
            if result["next"] is None:
                break
            page += 1
        assert page == -(-135 // size)
        assert len(seen) == 135 and set(seen) == expected


def test_get_update_history_delete_by_id(mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    memory_id = client.add("Likes aisle seats", user_id="dana")["results"][0]["id"]
    assert client.get(memory_id)["memory"] == "Likes aisle seats"
    assert client.get(memory_id)["user_id"] == "dana"
    client.update(memory_id, text="Likes window seats")
    assert client.get(memory_id)["memory"] == "Likes window seats"
    assert [h["event"] for h in client.history(memory_id)][:2] == ["ADD", "UPDATE"]
    client.delete(memory_id)
    with pytest.raises(platform_errors()):
        client.get(memory_id)


def test_async_client_works_the_same(mem0_client, concierge_key):
    client = mem0_client(concierge_key, asynchronous=True)

    async def flow():
        await client.add("I am vegetarian", user_id="alice")
        await client.add("Window seat please", user_id="bob")
        alice = await client.search("diet", filters={"user_id": "alice"})
        everyone = await client.get_all(filters={"user_id": "*"}, page=1, page_size=10)
        await client.delete_all(user_id="alice")
        after = await client.get_all(filters={"user_id": "bob"})
        return alice, everyone, after

    alice, everyone, after = asyncio.run(flow())
    assert texts(alice) == {"I am vegetarian"}
    assert everyone["count"] == 2
    assert texts(after) == {"Window seat please"}


def test_paused_person_gets_423_and_nothing_is_stored(mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    client.add("first", user_id="erin")
    Membership.objects.filter(external_id="erin").update(memory_paused=True)
    with pytest.raises(platform_errors()) as err:
        client.add("second", user_id="erin")
    assert "paused" in str(err.value).lower()
    assert texts(client.get_all(filters={"user_id": "erin"})) == {"first"}


def test_bad_input_is_400_and_stores_nothing(mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    for bad in ({"user_id": "*"}, {"user_id": ""}, {"user_id": "ok", "agent_id": ["x"]},
                {"user_id": "ok", "metadata": {"user_id": "bob"}}, {"user_id": "ok", "bogus": 1}):
        with pytest.raises(platform_errors()):
            client.add("should not be stored", **bad)
    with pytest.raises(platform_errors()):
        client.add("x" * 5000, user_id="ok")
    assert not Membership.objects.filter(external_id="ok").exists()


def test_webhook_methods_work_for_the_keys_tenant_only(mem0_client, concierge_key, make_key, sports_key):
    from memportal.agents.models import Webhook

    client = mem0_client(concierge_key)
    made = client.create_webhook(url="http://127.0.0.1:9/hooks", name="crm", project_id=client.project_id,
                                 event_types=["memory_add", "erasure_person"])
    assert made["secret"].startswith("whsec_") and made["event_types"] == ["memory_add", "erasure_person"]
    listed = client.get_webhooks(project_id=client.project_id)
    assert [h["webhook_id"] for h in listed] == [made["webhook_id"]] and "secret" not in listed[0]
    updated = client.update_webhook(webhook_id=made["webhook_id"], name="crm2", event_types=["memory_delete"])
    assert updated["name"] == "crm2" and updated["event_types"] == ["memory_delete"]
    reader = mem0_client(make_key("concierge_app", ("read",)))
    other = mem0_client(sports_key)
    for refused in (lambda: reader.delete_webhook(webhook_id=made["webhook_id"]),
                    lambda: reader.create_webhook(url="http://127.0.0.1:9/x", name="x", project_id="concierge_app",
                                                  event_types=["memory_add"]),
                    lambda: other.delete_webhook(webhook_id=made["webhook_id"]),
                    lambda: other.update_webhook(webhook_id=made["webhook_id"], url="http://127.0.0.1:9/steal"),
                    lambda: other.get_webhooks(project_id="concierge_app"),
                    lambda: client.create_webhook(url="ftp://x", name="x", project_id=client.project_id,
                                                  event_types=["memory_add"])):
        with pytest.raises(platform_errors()) as caught:
            refused()
        assert "<html" not in str(caught.value).lower()
    assert other.get_webhooks(project_id=other.project_id) == []
    assert Webhook.objects.get().url == "http://127.0.0.1:9/hooks"
    assert client.delete_webhook(webhook_id=made["webhook_id"])["message"].startswith("Webhook deleted")
    assert client.get_webhooks(project_id=client.project_id) == []

    async_client = mem0_client(concierge_key, asynchronous=True)

    async def flow():
        hook = await async_client.create_webhook(url="http://127.0.0.1:9/a", name="a",
                                                 project_id="concierge_app", event_types=["memory_update"])
        await async_client.update_webhook(webhook_id=hook["webhook_id"], url="http://127.0.0.1:9/b")
        listed = await async_client.get_webhooks(project_id="concierge_app")
        await async_client.delete_webhook(webhook_id=hook["webhook_id"])
        return listed, await async_client.get_webhooks(project_id="concierge_app")

    listed, after = asyncio.run(flow())
    assert [h["url"] for h in listed] == ["http://127.0.0.1:9/b"] and after == []
