"""MEMPORTAL_LLM=openai, driven by the real MemoryClient against a live server, with a scripted
OpenAI-compatible model on loopback (tests/llm_server.py): facts extracted from a conversation,
UPDATE / DELETE / NOOP decisions, and what the model is shown and allowed to touch."""

from __future__ import annotations

import pytest
from django.db import connection

from memportal.agents.models import KeyRead
from memportal.memory.client import platform_errors
from memportal.memory.models import ErasureReceipt, Membership
from tests.agents.conftest import texts

pytestmark = pytest.mark.django_db(transaction=True)


def _rows() -> dict[str, tuple[str, str]]:
    with connection.cursor() as cur:
        cur.execute("SELECT id::text, payload->>'data', payload->>'app_id' FROM memportal_memories")
        return {i: (text, app) for i, text, app in cur.fetchall()}


def test_add_with_inference_stores_the_facts_the_model_extracted(fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    answer = client.add([{"role": "system", "content": "You are a concierge"},
                         {"role": "user", "content": "I am vegetarian"},
                         {"role": "assistant", "content": "Noted."},
                         {"role": "user", "content": "I live in Berlin"}], user_id="alice", agent_id="concierge")
    assert answer["inference"] == "llm" and "message" not in answer
    assert [(r["event"], r["memory"], r["user_id"]) for r in answer["results"]] == [
        ("ADD", "I am vegetarian", "alice"), ("ADD", "I live in Berlin", "alice")]
    listed = client.get_all(filters={"user_id": "alice"})["results"]
    assert {m["memory"] for m in listed} == {"I am vegetarian", "I live in Berlin"}
    assert all(m["agent_id"] == "concierge" and m["app_id"] == "concierge_app" for m in listed)
    (facts_prompt,) = fake_llm.prompts("facts")
    assert "You are a concierge" not in facts_prompt  # system lines are not shown to the model
    (update_prompt,) = fake_llm.prompts("update")
    assert "Current memory is empty" in update_prompt


def test_a_changed_fact_updates_the_memory_and_its_history_shows_it(fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    first = client.add("I live in Berlin", user_id="alice")["results"][0]
    answer = client.add([{"role": "user", "content": "I live in Paris"}], user_id="alice")
    assert [(r["event"], r["id"], r["memory"], r["previous_memory"]) for r in answer["results"]] == [
        ("UPDATE", first["id"], "I live in Paris", "I live in Berlin")]
    assert texts(client.get_all(filters={"user_id": "alice"})) == {"I live in Paris"}
    history = client.history(first["id"])
    assert [(h["event"], h["old_memory"], h["new_memory"]) for h in history] == [
        ("ADD", None, "I live in Berlin"), ("UPDATE", "I live in Berlin", "I live in Paris")]


def test_a_forget_decision_erases_the_memory_with_a_receipt(fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    kept = client.add("I am vegetarian", user_id="alice")["results"][0]
    gone = client.add("I live in Paris", user_id="alice")["results"][0]
    answer = client.add("Forget that I live in Paris", user_id="alice")
    assert [(r["event"], r["id"], r["memory"]) for r in answer["results"]] == [
        ("DELETE", gone["id"], "I live in Paris")]
    assert texts(client.get_all(filters={"user_id": "alice"})) == {"I am vegetarian"}
    assert set(_rows()) == {kept["id"]}
    receipt = ErasureReceipt.objects.get(kind="memory")
    assert str(receipt.memory_id) == gone["id"] and receipt.memories_erased == 1
    with pytest.raises(platform_errors()):
        client.get(gone["id"])


def test_a_fact_already_remembered_is_a_noop(fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    first = client.add("I am vegetarian", user_id="alice")["results"][0]
    again = client.add("I am vegetarian", user_id="alice")
    assert [(r["event"], r["id"]) for r in again["results"]] == [("NOOP", first["id"])]
    assert len(_rows()) == 1


def test_the_model_is_shown_only_this_persons_memories_in_this_tenant(
        fake_llm, mem0_client, concierge_key, sports_key):
    client, sports = mem0_client(concierge_key), mem0_client(sports_key)
    client.add("I live in Rome", user_id="bob", infer=False)            # same tenant, another person
    sports.add("I live in Madrid", user_id="alice", infer=False)        # same app id, another tenant
    sports.add("I live in Oslo", user_id="jane", infer=False)
    answer = client.add("I live in Paris", user_id="alice")
    assert [r["event"] for r in answer["results"]] == ["ADD"]
    (update_prompt,) = fake_llm.prompts("update")
    assert "Current memory is empty" in update_prompt
    for foreign in ("Rome", "Madrid", "Oslo"):
        assert foreign not in update_prompt
    assert sorted(t for t, _ in _rows().values()) == ["I live in Madrid", "I live in Oslo", "I live in Paris",
                                                      "I live in Rome"]


def test_a_malicious_model_reply_cannot_touch_any_memory_it_was_not_shown(
        fake_llm, mem0_client, concierge_key, sports_key):
    client, sports = mem0_client(concierge_key), mem0_client(sports_key)
    own = client.add("I am vegetarian", user_id="alice", agent_id="concierge", infer=False)["results"][0]["id"]
    hidden = client.add("Alice's secret", user_id="alice", agent_id="other", infer=False)["results"][0]["id"]
    bob = client.add("Bob likes tea", user_id="bob", infer=False)["results"][0]["id"]
    jane = sports.add("Jane runs", user_id="jane", infer=False)["results"][0]["id"]
    before = _rows()

    def malicious(shown, facts):
        assert [m["text"] for m in shown] == ["I am vegetarian"]  # this agent's memories of alice only
        return [{"id": bob, "text": "pwned", "event": "UPDATE"}, {"id": jane, "event": "DELETE", "text": "x"},
                {"id": own, "event": "DELETE", "text": "x"}, {"id": "7", "event": "DELETE", "text": "x"},
                {"id": "-1", "event": "UPDATE", "text": "pwned"}, {"id": hidden, "event": "UPDATE", "text": "pwned"},
                {"id": "0", "event": "UPDATE", "text": ["not", "text"]}, {"event": "ERASE_EVERYTHING"}]

    fake_llm.decisions = malicious
    answer = client.add("I am vegetarian", user_id="alice", agent_id="concierge")
    # Only "0" (alice's memory as shown) maps to a memory; its "update" has no valid text: unchanged.
    assert [(r["event"], r["id"]) for r in answer["results"]] == [("NOOP", own)]
    assert _rows() == before
    assert not ErasureReceipt.objects.exists()


def test_a_malicious_reply_with_the_shown_number_touches_only_the_owners_memory(
        fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    own = client.add("I am vegetarian", user_id="alice", infer=False)["results"][0]["id"]
    bob = client.add("I am vegetarian too", user_id="bob", infer=False)["results"][0]["id"]
    fake_llm.decisions = lambda shown, facts: [{"id": "0", "event": "UPDATE", "text": "I eat fish now"},
                                               {"id": "0", "event": "DELETE", "text": "x"}]  # one change per memory
    answer = client.add("I eat fish now", user_id="alice")
    assert [(r["event"], r["id"]) for r in answer["results"]] == [("UPDATE", own)]
    assert _rows()[own][0] == "I eat fish now" and _rows()[bob][0] == "I am vegetarian too"


def test_a_write_only_key_learns_what_happened_but_not_the_earlier_text(fake_llm, mem0_client, make_key):
    writer = mem0_client(make_key("concierge_app", ("write",)))
    writer.add("I live in Berlin", user_id="alice")
    answer = writer.add("I live in Paris", user_id="alice")
    assert answer["results"] == [{"id": None, "memory": None, "user_id": "alice", "event": "UPDATE"}]
    assert "Berlin" not in str(answer)


def test_a_failing_model_is_a_json_502_and_nothing_is_stored(fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    fake_llm.fail = True
    with pytest.raises(platform_errors()) as err:
        client.add("I live in Paris", user_id="newcomer")
    assert "language model failed" in str(err.value) and "<html" not in str(err.value).lower()
    assert _rows() == {} and not Membership.objects.filter(external_id="newcomer").exists()


def test_infer_false_still_stores_messages_verbatim_without_asking_the_model(fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    answer = client.add([{"role": "user", "content": "I am vegetarian"}, {"role": "assistant", "content": "Noted."}],
                        user_id="alice", infer=False)
    assert answer["inference"] == "off" and len(answer["results"]) == 2
    assert fake_llm.requests == []


def test_summary_is_written_by_the_model_over_the_filtered_memories_only(
        fake_llm, mem0_client, concierge_key, sports_key):
    client, sports = mem0_client(concierge_key), mem0_client(sports_key)
    client.add("I am vegetarian", user_id="alice", agent_id="chef", infer=False)
    client.add("I live in Paris", user_id="alice", agent_id="travel", infer=False)
    client.add("Bob likes tea", user_id="bob", infer=False)
    sports.add("Alice of sports runs marathons", user_id="alice", infer=False)

    answer = client.get_summary(filters={"user_id": "alice"})
    assert answer["status"] == "completed" and answer["memory_count"] == 2 and answer["user_ids"] == ["alice"]
    assert answer["summary"] == "Summary: I am vegetarian; I live in Paris"
    narrowed = client.get_summary(filters={"AND": [{"user_id": "alice"}, {"agent_id": "chef"}]})
    assert narrowed["summary"] == "Summary: I am vegetarian"
    for prompt in fake_llm.prompts("summary"):
        assert "Bob" not in prompt and "marathons" not in prompt
    assert KeyRead.objects.filter(action="summary", subject_id=Membership.objects.get(
        tenant__slug="concierge_app", external_id="alice").subject_id).exists()
    # Another tenant's key naming "alice" gets its own alice, never this one.
    assert sports.get_summary(filters={"user_id": "alice"})["summary"] == "Summary: Alice of sports runs marathons"
    assert client.get_summary(filters={"user_id": "nobody"}) == {
        "status": "completed", "summary": "", "memory_count": 0, "total_memories": 0, "user_ids": []}
    with pytest.raises(platform_errors()) as err:
        client.get_summary()  # no filters: say who, as for get_all
    assert "user_id" in str(err.value)


def test_summary_names_whose_memory_each_line_is_when_several_people_are_selected(
        fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    client.add("I am vegetarian", user_id="alice", infer=False)
    client.add("I like tea", user_id="bob", infer=False)
    answer = client.get_summary(filters={"user_id": "*"})
    assert answer["user_ids"] == ["alice", "bob"]
    assert answer["summary"] == "Summary: [alice] I am vegetarian; [bob] I like tea"


def test_summary_with_a_failing_model_is_a_json_502(fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    client.add("I am vegetarian", user_id="alice", infer=False)
    fake_llm.fail = True
    with pytest.raises(platform_errors()) as err:
        client.get_summary(filters={"user_id": "alice"})
    assert "language model failed" in str(err.value)


def test_a_memory_corrected_while_the_model_thinks_keeps_the_correction(fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    memory_id = client.add("I live in Berlin", user_id="alice")["results"][0]["id"]

    def corrected_meanwhile(shown, facts):
        # The person corrects the memory on their page while the model is still answering.
        from django.db import connections

        with connections["default"].cursor() as cur:
            cur.execute("UPDATE memportal_memories SET payload = jsonb_set(payload, '{data}', '\"I live in Rome\"') "
                        "WHERE id = %s", [memory_id])
        connections["default"].close()
        return [{"id": "0", "event": "UPDATE", "text": "I live in Paris"}]

    fake_llm.decisions = corrected_meanwhile
    answer = client.add("I live in Paris", user_id="alice")
    assert answer["results"] == []
    assert _rows()[memory_id][0] == "I live in Rome"


def test_the_model_is_asked_outside_the_write_transaction(fake_llm, mem0_client, concierge_key):
    client = mem0_client(concierge_key)
    client.add("I live in Berlin", user_id="alice")
    seen: list[int] = []

    def count_open_transactions(shown, facts):
        from django.db import connections

        with connections["default"].cursor() as cur:  # another session: is any write transaction open?
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND state = 'idle in transaction' AND pid <> pg_backend_pid()")
            seen.append(cur.fetchone()[0])
        connections["default"].close()
        return [{"id": "0", "event": "NONE", "text": facts[0]}]

    fake_llm.decisions = count_open_transactions
    client.add("I live in Berlin", user_id="alice")
    assert seen == [0]
