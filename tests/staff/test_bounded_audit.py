"""The audit page stays bounded as a tenant grows: no query or <select> per person or session.

Person/agent/session are text fields with htmx lookups (at most LOOKUP_LIMIT suggestions, only
the tenant's own); a typed value is resolved inside the tenant or is a 400 that shows nothing;
labels are read for the people shown only and the summaries are the largest SUMMARY_LIMIT.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from memportal.memory import services
from memportal.memory.models import Membership
from memportal.memory.tenant_selectors import LOOKUP_LIMIT, SUMMARY_LIMIT
from memportal.staff.models import AccessRecord
from tests.factories import person
from tests.staff.bulk import bulk_people

pytestmark = pytest.mark.django_db

AUDIT = "/staff/concierge_app/"
LOOKUP = "/staff/concierge_app/lookup/"

#: the audit page's queries whatever the tenant holds (session, user, tenant, form checks, total,
#: page, two summaries, labels, export jobs, access record, …): a constant, not a function of size
AUDIT_MAX_QUERIES = 14


def _page(client, params: dict) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(AUDIT, params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode(), len(queries)


def _options(body: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', body)


@pytest.fixture
def stranger_session(stranger):
    services.memory_add(member=stranger.member, messages="jane runs marathons", agent_id="bulk-other",
                        run_id="person-other-s0")


@pytest.mark.parametrize("params", [{}, {"agent": "bulk-agent", "page_size": 25}, {"session": "any", "q": "fact"}])
def test_page_size_and_queries_do_not_grow_with_people_or_sessions(
    client, staff, owner, django_assert_max_num_queries, params
):
    tenant = owner.member.tenant
    bulk_people(tenant=tenant, count=30, prefix="small", memories_each=3, sessions_each=3)
    client.force_login(staff.user)
    small_body, small_queries = _page(client, params)

    # 2,000 more people, 3 sessions each (6,000 sessions), 6,000 memories: the page must not notice.
    bulk_people(tenant=tenant, count=2000, prefix="person", memories_each=3, sessions_each=3)
    with django_assert_max_num_queries(AUDIT_MAX_QUERIES):
        big_body, big_queries = _page(client, params)
    assert big_queries == small_queries <= AUDIT_MAX_QUERIES
    # Same rows shown (page size), same summary lengths: only ids and counts differ in length.
    assert abs(len(big_body) - len(small_body)) < 2_500, (len(small_body), len(big_body))
    assert len(big_body) < 80_000
    # No <select> lists people or sessions: the only options are the mode, page size and export format.
    assert len(re.findall(r"<option", big_body)) <= 10
    assert "<datalist" in big_body and 'hx-get="/staff/concierge_app/lookup/person/"' in big_body


def test_summaries_are_the_largest_few_and_labels_are_read_for_those_shown_only(client, staff, owner):
    bulk_people(tenant=owner.member.tenant, count=300, prefix="person", memories_each=2)
    services.memory_add(member=owner.member, messages=[{"role": "user", "content": f"alice fact {i}"}
                                                       for i in range(5)])
    client.force_login(staff.user)
    response = client.get(AUDIT, {"page_size": 25})
    assert len(response.context["person_counts"]) == SUMMARY_LIMIT
    assert response.context["person_counts"][0][1] == "alice@example.com"  # the largest, labelled
    with CaptureQueriesContext(connection) as queries:
        client.get(AUDIT, {"page_size": 25})
    member_reads = [q["sql"] for q in queries if 'FROM "memory_membership"' in q["sql"]]
    assert len(member_reads) <= 2  # the staff member's own access check and the labels of those shown
    assert all("IN (" in sql or "role" in sql for sql in member_reads)


def test_the_person_lookup_suggests_at_most_the_limit_and_only_this_tenant(client, staff, owner, stranger):
    bulk_people(tenant=owner.member.tenant, count=60, prefix="person")
    bulk_people(tenant=stranger.member.tenant, count=60, prefix="person-foreign")
    client.force_login(staff.user)
    before = AccessRecord.objects.count()

    body = client.get(f"{LOOKUP}person/", {"person": "PERSON-"}).content.decode()
    values = _options(body)
    assert values[0] == "any" and len(values) == LOOKUP_LIMIT + 1
    assert all(v.startswith("person-0") for v in values[1:])  # case-insensitive prefix, this tenant only
    assert values[1:] == sorted(values[1:])

    assert _options(client.get(f"{LOOKUP}person/", {"person": "alice@"}).content.decode()) == [
        "any", "alice@example.com"]
    for prefix in ("jane", "person-foreign", "%", "_"):
        assert _options(client.get(f"{LOOKUP}person/", {"person": prefix}).content.decode()) == ["any"], prefix
    assert AccessRecord.objects.count() == before  # lookups show no memory text: not logged as looks


def test_an_ended_membership_is_suggested_by_its_subject_id(client, staff, owner):
    bob = person("bob", "concierge_app")
    Membership.objects.filter(pk=bob.member.pk).update(ended_at="2026-01-01T00:00:00Z")
    client.force_login(staff.user)
    body = client.get(f"{LOOKUP}person/", {"person": "bob"}).content.decode()
    assert _options(body) == ["any", bob.member.subject_id] and "bob@example.com (ended)" in body


def test_agent_and_session_lookups_are_prefix_limited_and_tenant_confined(client, staff, owner, stranger_session):
    bulk_people(tenant=owner.member.tenant, count=40, prefix="person", sessions_each=1)
    client.force_login(staff.user)
    sessions = _options(client.get(f"{LOOKUP}session/", {"session": "person-"}).content.decode())[1:]
    assert len(sessions) == LOOKUP_LIMIT and sessions == sorted(sessions)
    assert "person-other-s0" not in sessions
    assert _options(client.get(f"{LOOKUP}session/", {"session": "person-oth"}).content.decode()) == ["any"]
    assert _options(client.get(f"{LOOKUP}agent/", {"agent": "bulk"}).content.decode()) == ["any", "bulk-agent"]
    assert _options(client.get(f"{LOOKUP}agent/", {"agent": ""}).content.decode()) == ["any", "bulk-agent"]
    assert _options(client.get(f"{LOOKUP}agent/", {"agent": "*"}).content.decode()) == ["any"]
    assert client.get(f"{LOOKUP}memory/", {"memory": ""}).status_code == 404


def test_a_person_is_found_by_email_external_id_or_subject_id(client, staff, owner, colleague):
    bulk_people(tenant=owner.member.tenant, count=3, prefix="person")
    api_person = Membership.objects.get(external_id="person-00002")
    services.memory_add(member=owner.member, messages="alice prefers window seats")
    services.memory_add(member=colleague.member, messages="bob is vegetarian")
    client.force_login(staff.user)
    for value, subject in (("ALICE@example.com", owner.member.subject_id), (owner.member.subject_id,
                            owner.member.subject_id), ("Person-00002", api_person.subject_id)):
        response = client.get(AUDIT, {"person": value})
        assert response.status_code == 200, value
        assert AccessRecord.objects.latest("pk").filters["person"] == subject
    body = client.get(AUDIT, {"person": "alice@example.com"}).content.decode()
    assert "alice prefers window seats" in body and "bob is vegetarian" not in body
    assert f"<dt>Person</dt><dd>alice@example.com ({owner.member.subject_id})</dd>" in body


@pytest.mark.parametrize("params", [
    {"person": "nobody@example.com"}, {"person": "jane@example.com"}, {"person": "*"}, {"person": "%"},
    {"person": "person-foreign-00001"}, {"agent": "nope"}, {"agent": "*"}, {"agent": "bulk-other"},
    {"session": "person-other-s0"}, {"session": "bad id!"}, {"person": "x" * 300},
])
def test_an_unknown_value_is_a_400_that_shows_nothing(client, staff, owner, stranger, stranger_session, params):
    bulk_people(tenant=stranger.member.tenant, count=2, prefix="person-foreign")
    services.memory_add(member=owner.member, messages="alice prefers window seats", agent_id="travel")
    client.force_login(staff.user)
    response = client.get(AUDIT, params)
    assert response.status_code == 400
    body = response.content.decode()
    assert "alice prefers window seats" not in body and "jane runs marathons" not in body
    assert not AccessRecord.objects.filter(memories_shown__gt=0).exists()
    assert client.get("/staff/concierge_app/export/", {"fmt": "csv", **params}).status_code == 404


def test_any_stays_an_explicit_choice(client, staff, owner, colleague):
    services.memory_add(member=owner.member, messages="alice prefers window seats", run_id="s1")
    services.memory_add(member=colleague.member, messages="bob is vegetarian")
    client.force_login(staff.user)
    body = client.get(AUDIT, {"session": "any", "person": "ANY"}).content.decode()
    assert "alice prefers window seats" in body and "bob is vegetarian" not in body
    assert AccessRecord.objects.latest("pk").filters == {"person": "any", "session": "any", "page": 1,
                                                         "page_size": 50}


def test_export_this_filter_carries_the_filter(client, staff, owner):
    services.memory_add(member=owner.member, messages="alice prefers window seats", agent_id="travel")
    client.force_login(staff.user)
    body = client.get(AUDIT, {"agent": "travel", "person": "alice@example.com"}).content.decode()
    links = re.findall(r'href="(/staff/concierge_app/export/\?[^"]*)"', body)
    assert "/staff/concierge_app/export/?agent=travel&amp;person=alice%40example.com&amp;fmt=csv" in links
    assert "/staff/concierge_app/export/?fmt=csv" in links  # the whole tenant stays a separate, labelled link


@pytest.mark.parametrize("params", [
    {"person": "\x00"}, {"person": "p" * 300}, {"person": ["a", "b"]}, {"agent": "a%"}, {"agent": "_"},
    {"session": "\x00"}, {"session": "s" * 300}, {"q": "%"},
])
def test_hostile_lookup_input_suggests_nothing_and_never_fails(client, staff, owner, params):
    bulk_people(tenant=owner.member.tenant, count=3, prefix="person")
    client.force_login(staff.user)
    for kind in ("person", "agent", "session"):
        response = client.get(f"{LOOKUP}{kind}/", params)
        assert response.status_code == 200, (kind, params)
        values = _options(response.content.decode())
        assert values[0] == "any" and len(values) <= LOOKUP_LIMIT + 1
        if kind in params or "q" in params:  # nothing of this tenant starts with any of these
            assert values == ["any"], (kind, params)


def test_a_label_picks_the_active_membership_and_an_ambiguous_one_is_a_400(client, staff, owner):
    tenant = owner.member.tenant
    ended = [Membership.objects.create(tenant=tenant, external_id="dup", ended_at="2026-01-01T00:00:00Z")
             for _ in range(2)]
    client.force_login(staff.user)
    response = client.get(AUDIT, {"person": "dup"})
    assert response.status_code == 400 and "matches 2 people" in response.content.decode()
    assert client.get(AUDIT, {"person": ended[0].subject_id}).status_code == 200  # the subject id is exact
    active = Membership.objects.create(tenant=tenant, external_id="dup")
    assert client.get(AUDIT, {"person": "DUP"}).status_code == 200
    assert AccessRecord.objects.latest("pk").filters["person"] == active.subject_id
