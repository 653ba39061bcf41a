import uuid

from django.urls import reverse

from memportal.memory.models import ErasureReceipt, MemoryEvent
from memportal.memory.records import TABLE
from tests.you.conftest import texts


def _vector_rows(memory_id: str) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE id = %s", [memory_id])
        return cur.fetchone()[0]


def test_it_shows_a_confirm_page_without_javascript(alice_client, owner, alice_memory):
    response = alice_client.get(reverse("you:delete", args=[alice_memory.id]))
    assert response.status_code == 200
    assert "Delete this memory?" in response.content.decode()
    assert texts(owner) == ["Alice is vegetarian"]


def test_it_erases_the_memory_and_its_history_and_redirects_to_a_receipt(alice_client, owner, alice_memory):
    response = alice_client.post(reverse("you:delete", args=[alice_memory.id]))
    receipt = ErasureReceipt.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("you:receipt", args=[receipt.pk])
    assert _vector_rows(alice_memory.id) == 0
    assert not MemoryEvent.objects.filter(memory_id=alice_memory.id).exists()
    assert receipt.memories_erased == 1 and receipt.remaining_after == 0


def test_it_answers_htmx_with_a_row_removal_and_an_announcement(alice_client, alice_memory):
    response = alice_client.post(reverse("you:delete", args=[alice_memory.id]), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="live"' in body and 'hx-swap-oob="true"' in body and "Memory deleted" in body
    assert "<tr" not in body


def test_the_list_uses_hx_confirm_and_no_inline_script(alice_client, alice_memory):
    body = alice_client.get(reverse("you:list")).content.decode()
    assert 'hx-confirm="Delete this memory for good?' in body
    assert "onclick" not in body and "<script>" not in body


def test_it_will_not_delete_another_persons_memory(alice_client, colleague, bob_memory):
    assert alice_client.post(reverse("you:delete", args=[bob_memory.id])).status_code == 404
    assert texts(colleague) == ["Bob loves steak"]
    assert not ErasureReceipt.objects.exists()


def test_it_will_not_delete_another_tenants_memory(alice_client, stranger, jane_memory):
    assert alice_client.post(reverse("you:delete", args=[jane_memory.id])).status_code == 404
    assert texts(stranger) == ["Jane runs marathons"]
    assert not ErasureReceipt.objects.exists()


def test_it_answers_404_for_a_missing_memory(alice_client, owner, alice_memory):
    assert alice_client.post(reverse("you:delete", args=[uuid.uuid4()])).status_code == 404
    assert texts(owner) == ["Alice is vegetarian"]


def test_it_hides_the_confirm_page_for_another_persons_memory(alice_client, bob_memory):
    assert alice_client.get(reverse("you:delete", args=[bob_memory.id])).status_code == 404


def test_an_htmx_delete_updates_the_counts_for_the_lists_filter(alice_client, owner):
    from memportal.memory import services

    for text, agent in (("a1", "chef"), ("a2", "chef"), ("a3", "travel")):
        services.memory_add(member=owner.member, messages=text, agent_id=agent, run_id="r1")
    target = next(m for m in services_list(owner) if m.text == "a1")
    response = alice_client.post(reverse("you:delete", args=[target.id]), headers={
        "HX-Request": "true", "HX-Current-URL": "http://testserver/you/?agent=chef"})
    body = response.content.decode()
    assert 'id="showing" hx-swap-oob="true"' in body and "Showing 1 of 1 matching" in body
    assert 'id="memory-filters" hx-swap-oob="true"' in body and "chef (1)" in body and "travel (1)" in body
    assert "HX-Refresh" not in response.headers

    last = next(m for m in services_list(owner) if m.text == "a2")
    emptied = alice_client.post(reverse("you:delete", args=[last.id]), headers={
        "HX-Request": "true", "HX-Current-URL": "http://testserver/you/?agent=chef"})
    assert emptied.headers["HX-Refresh"] == "true"  # the filter is empty now: show its empty state


def services_list(member_person):
    from memportal.memory import selectors

    return selectors.memory_list(member=member_person.member, page_size=100).items
