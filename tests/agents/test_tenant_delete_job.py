"""Tenant-wide API deletes (``?agent_id=`` / ``?run_id=`` without a user_id) are queued jobs:
202 with a job id, one verified receipt per person, progress people done/total, resumable."""

from __future__ import annotations

import pytest

from memportal.agents.models import TenantDeleteJob
from memportal.agents.services import tenant_delete_execute
from memportal.agents.tasks import tenant_delete_run
from memportal.memory.models import ErasureReceipt
from memportal.memory.tenancy import membership_for_external
from tests.factories import tenant
from tests.staff.bulk import bulk_memories, table_count

pytestmark = pytest.mark.django_db


def _send(client, key: str, method: str, path: str):
    return getattr(client, method.lower())(path, headers={"Authorization": f"Token {key}"})


@pytest.fixture
def named_people():
    """Three people the concierge app named, with memories of two agents; one in another tenant."""
    concierge = tenant("concierge_app")
    people = {}
    for name, n in (("ann", 30), ("ben", 12), ("cid", 5)):
        member = membership_for_external(tenant=concierge, external_id=name, create=True)
        bulk_memories(member=member, count=n, agent_id="travel_planner", with_history=True)
        bulk_memories(member=member, count=2, agent_id="chef")
        people[name] = member
    other = membership_for_external(tenant=tenant("sports_brand_portal"), external_id="ann", create=True)
    bulk_memories(member=other, count=7, agent_id="travel_planner")
    return people


def _agent_count(slug: str, agent: str) -> int:
    return table_count("payload->>'app_id' = %s AND payload->>'agent_id' = %s", [slug, agent])


def test_a_tenant_wide_delete_is_a_job_with_a_receipt_per_person(client, concierge_key, sports_key, named_people):
    response = _send(client, concierge_key, "DELETE", "/v1/memories/?agent_id=travel_planner")
    assert response.status_code == 202, response.content
    body = response.json()
    job = TenantDeleteJob.objects.get(pk=body["job_id"])
    assert body["status_url"] == f"/v1/memories/jobs/{job.pk}/"
    assert job.state == "queued" and job.agent_id == "travel_planner" and job.run_id == ""
    assert _agent_count("concierge_app", "travel_planner") == 47  # nothing erased inside the request

    tenant_delete_run(job_id=str(job.pk))  # what the worker's task runs
    job.refresh_from_db()
    assert job.state == "done" and job.attempts == 1
    assert job.people_total == job.people_done == 3 and job.memories_erased == 47
    assert job.verification["people_left"] == 0 and job.verification["receipts"] == 3
    receipts = list(job.receipts.all())
    assert sorted(r.memories_erased for r in receipts) == [5, 12, 30]
    assert {r.membership_id for r in receipts} == {m.pk for m in named_people.values()}
    assert {(r.kind, r.requested_via) for r in receipts} == {(ErasureReceipt.Kind.AGENT, "api")}
    assert _agent_count("concierge_app", "travel_planner") == 0
    assert _agent_count("concierge_app", "chef") == 6  # other agents untouched
    assert _agent_count("sports_brand_portal", "travel_planner") == 7  # other tenants untouched

    status = _send(client, concierge_key, "GET", body["status_url"])
    assert status.status_code == 200
    shown = status.json()
    assert {k: shown[k] for k in ("status", "people_total", "people_done", "deleted", "receipts")} == {
        "status": "done", "people_total": 3, "people_done": 3, "deleted": 47, "receipts": 3}
    assert shown["verification"]["people_left"] == 0
    # Another tenant's key cannot see the job: 404 like a missing one.
    assert _send(client, sports_key, "GET", body["status_url"]).status_code == 404
    assert _send(client, concierge_key, "GET", "/v1/memories/jobs/not-a-uuid/").status_code == 404
    # A job row holds no person's id and no memory text.
    blob = str(TenantDeleteJob.objects.filter(pk=job.pk).values().get())
    assert "remembered fact" not in blob and not any(m.subject_id in blob for m in named_people.values())


def test_a_job_stopped_part_way_resumes_without_erasing_or_counting_anyone_twice(client, concierge_key, named_people):
    body = _send(client, concierge_key, "DELETE", "/v1/memories/?agent_id=travel_planner").json()
    job = TenantDeleteJob.objects.get(pk=body["job_id"])
    tenant_delete_execute(job=job, worker="doomed", max_people=2)  # then the process "dies"
    job.refresh_from_db()
    assert job.state == "running" and job.people_done == 2 and job.people_total == 3
    assert job.receipts.count() == 2
    assert _agent_count("concierge_app", "travel_planner") == 47 - job.memories_erased

    tenant_delete_run(job_id=str(job.pk))  # the queue hands the job to another worker
    job.refresh_from_db()
    assert job.state == "done" and job.attempts == 2
    assert job.people_total == job.people_done == 3 and job.memories_erased == 47
    assert job.receipts.count() == 3 == ErasureReceipt.objects.filter(kind=ErasureReceipt.Kind.AGENT).count()
    assert _agent_count("concierge_app", "travel_planner") == 0
    tenant_delete_run(job_id=str(job.pk))  # a finished job run again: nothing happens
    assert ErasureReceipt.objects.count() == 3


def test_a_session_delete_and_a_person_delete(client, concierge_key, named_people):
    bulk_memories(member=named_people["ann"], count=4, run_id="tokyo")
    response = _send(client, concierge_key, "DELETE", "/v1/memories/?run_id=tokyo")
    assert response.status_code == 202
    tenant_delete_run(job_id=response.json()["job_id"])
    job = TenantDeleteJob.objects.get()
    assert job.state == "done" and job.people_done == 1 and job.memories_erased == 4
    # With a user_id it is one person: erased in the request, as before.
    response = _send(client, concierge_key, "DELETE", "/v1/memories/?user_id=ben&agent_id=chef")
    assert response.status_code == 200 and response.json()["deleted"] == 2
    assert TenantDeleteJob.objects.count() == 1


def test_read_only_keys_and_wildcards_queue_nothing(client, make_key, concierge_key, named_people):
    reader = make_key("concierge_app", ("read",))
    assert _send(client, reader, "DELETE", "/v1/memories/?agent_id=travel_planner").status_code == 403
    assert _send(client, concierge_key, "DELETE", "/v1/memories/?agent_id=*").status_code == 400
    assert not TenantDeleteJob.objects.exists()
