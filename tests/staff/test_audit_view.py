"""The audit page: filters from known choices, searches, counts, the filter shown, and its access log."""

from __future__ import annotations

import pytest

from memportal.memory import services
from memportal.staff.models import AccessRecord
from memportal.staff.selectors import access_records_for_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def memories(owner, colleague, stranger):
    services.memory_add(member=owner.member, messages="alice prefers window seats", agent_id="travel")
    services.memory_add(member=owner.member, messages="alice budget is 100% flexible")
    services.memory_add(member=colleague.member, messages="bob is vegetarian", agent_id="food", run_id="s1")
    services.memory_add(member=stranger.member, messages="jane runs marathons", agent_id="travel")


def test_a_page_view_writes_an_access_record_the_person_then_sees(client, staff, owner, colleague, stranger,
                                                                   memories):
    client.force_login(staff.user)
    response = client.get("/staff/concierge_app/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "alice prefers window seats" in body and "bob is vegetarian" in body
    assert "jane runs marathons" not in body
    record = AccessRecord.objects.get()
    assert record.action == "view" and record.actor == staff.user and record.memories_shown == 3
    assert list(access_records_for_member(member=owner.member)) == [record]
    assert list(access_records_for_member(member=colleague.member)) == [record]
    assert list(access_records_for_member(member=stranger.member)) == []


def test_a_filtered_view_logs_only_the_people_shown(client, staff, owner, colleague, memories):
    client.force_login(staff.user)
    response = client.get("/staff/concierge_app/", {"person": colleague.member.subject_id})
    assert "bob is vegetarian" in response.content.decode()
    assert "alice prefers" not in response.content.decode()
    record = AccessRecord.objects.get()
    assert record.subject_ids == [colleague.member.subject_id]
    assert record.filters["person"] == colleague.member.subject_id
    assert not access_records_for_member(member=owner.member).exists()


def test_any_agent_means_any_non_null_agent(client, staff, memories):
    client.force_login(staff.user)
    body = client.get("/staff/concierge_app/", {"agent": "any"}).content.decode()
    assert "alice prefers window seats" in body and "bob is vegetarian" in body
    assert "100% flexible" not in body  # no agent_id at all


def test_a_value_not_among_the_known_choices_is_rejected_not_passed_through(client, staff, stranger, memories):
    client.force_login(staff.user)
    for params in ({"person": stranger.member.subject_id}, {"agent": "*"}, {"session": "nope"},
                   {"person": ["a", "b"]}):
        response = client.get("/staff/concierge_app/", params)
        assert response.status_code == 400, params
        assert "jane runs marathons" not in response.content.decode()
        assert "alice prefers" not in response.content.decode()


def test_text_search_treats_wildcards_literally_and_logs_a_search(client, staff, owner, memories):
    client.force_login(staff.user)
    body = client.get("/staff/concierge_app/", {"q": "100%", "mode": "text"}).content.decode()
    assert "100% flexible" in body and "window seats" not in body
    body = client.get("/staff/concierge_app/", {"q": "%", "mode": "text"}).content.decode()
    assert "window seats" not in body
    searches = AccessRecord.objects.filter(action="search")
    assert searches.count() == 2 and {s.filters["search_length"] for s in searches} == {4, 1}
    assert all("100%" not in str(s.filters) for s in searches)  # typed text is kept only as a keyed hash
    assert access_records_for_member(member=owner.member).filter(action="search").exists()


def test_semantic_search_ranks_within_the_tenant_only(client, staff, colleague, memories):
    client.force_login(staff.user)
    response = client.get("/staff/concierge_app/", {"q": "food without meat", "mode": "semantic", "page_size": 25})
    body = response.content.decode()
    assert response.status_code == 200
    assert "jane runs marathons" not in body
    assert "bob is vegetarian" in body
    # The relevance floor: unrelated memories are not shown; matches are words, not numbers.
    assert "alice prefers window seats" not in body
    assert "strong match" in body or "weak match" in body
    record = AccessRecord.objects.get()
    assert record.action == "search" and record.filters["mode"] == "semantic"
    assert colleague.member.subject_id in record.subject_ids


def test_the_exact_filter_in_use_and_counts_are_on_the_page(client, staff, memories):
    client.force_login(staff.user)
    body = client.get("/staff/concierge_app/", {"agent": "travel", "date_from": "2020-01-01",
                                                 "page_size": 25}).content.decode()
    assert 'data-testid="filter-in-use"' in body
    for shown in ("<dt>Agent</dt><dd>travel</dd>", "<dt>From</dt><dd>1 Jan 2020</dd>"):
        assert shown in body
    # Paging is not part of what was looked at: no internals ("page_size 25") in the filter.
    start = body.index('data-testid="filter-in-use"')
    filter_box = body[start:body.index("</dl>", start)]
    assert "page" not in filter_box.lower() and "{" not in filter_box
    assert "alice@example.com" in body  # counts per person, labelled


def test_paging_uses_page_and_page_size(client, staff, owner):
    services.memory_add(member=owner.member, messages=[{"role": "user", "content": f"fact {i}"} for i in range(5)])
    client.force_login(staff.user)
    response = client.get("/staff/concierge_app/", {"page": 1, "page_size": 25})
    assert response.status_code == 200
    assert response.context["page"].total == 5 and response.context["page"].page == 1
    assert len(response.context["rows"]) == 5
    assert client.get("/staff/concierge_app/", {"page_size": 7}).status_code == 400


def test_a_page_past_the_end_goes_to_the_last_page_and_records_no_look(client, staff, owner):
    services.memory_add(member=owner.member, messages=[{"role": "user", "content": f"fact {i}"} for i in range(5)])
    client.force_login(staff.user)
    response = client.get("/staff/concierge_app/", {"page": 999, "page_size": 25, "agent": ""})
    assert response.status_code == 302
    assert "page=1" in response["Location"] and "page_size=25" in response["Location"]
    assert not AccessRecord.objects.exists()  # nothing was shown
    followed = client.get(response["Location"])
    body = followed.content.decode()
    assert "There is no page 999" in body
    assert "5 match" in body and "No memories match" not in body
