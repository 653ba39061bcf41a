"""Offboarding a tenant: complete erasure, others untouched, idempotent, resumable after a crash."""

from __future__ import annotations

import pytest

from memportal.memory.models import ErasureReceipt, Membership, MemoryEvent, MemoryMessage
from memportal.memory.tenant_selectors import AuditFilter
from memportal.offboarding import services
from memportal.offboarding.models import OffboardingJob
from memportal.offboarding.tasks import TenantBusy, offboarding_job_run
from memportal.staff import services as staff_services
from memportal.staff.models import AccessRecord, ExportJob
from tests.factories import person
from tests.queue import run_one_job
from tests.staff.bulk import bulk_memories, history_count, table_count

pytestmark = pytest.mark.django_db


def _tenant_counts(slug: str) -> int:
    return table_count("payload->>'app_id' = %s", [slug])


@pytest.fixture
def three_tenants(owner, colleague, stranger, staff):
    """Three tenants, people with more than 1,000 memories each, history, messages and an export."""
    other = person("olga", "other_app")
    ids = {}
    for who, n in ((owner, 1100), (colleague, 1050), (stranger, 1200), (other, 1001)):
        ids[who.member.subject_id] = bulk_memories(member=who.member, count=n, agent_id="agent-1",
                                                   with_history=True)
    job = staff_services.export_job_create(tenant=owner.member.tenant, actor=staff.user, flt=AuditFilter(),
                                           fmt="jsonl")
    run_one_job()
    job.refresh_from_db()
    assert job.state == "done"
    return {"ids": ids, "other": other}


def test_offboarding_leaves_zero_rows_for_the_tenant_and_other_tenants_unchanged(
        owner, colleague, stranger, three_tenants, export_dir):
    tenant = owner.member.tenant
    concierge_ids = three_tenants["ids"][owner.member.subject_id] + three_tenants["ids"][colleague.member.subject_id]
    before_sports, before_other = _tenant_counts("sports_brand_portal"), _tenant_counts("other_app")
    other_history = MemoryEvent.objects.exclude(memory_id__in=concierge_ids).count()
    other_messages = MemoryMessage.objects.exclude(
        subject_id__in=[owner.member.subject_id, colleague.member.subject_id]).count()
    assert services.offboarding_dry_run(tenant=tenant).memories == 2150

    job = services.offboarding_start(tenant=tenant, batch_size=500)
    assert run_one_job() is True
    job.refresh_from_db()

    assert _tenant_counts("concierge_app") == 0
    assert table_count("payload->>'user_id' = ANY(%s)", [[owner.member.subject_id, colleague.member.subject_id]]) == 0
    assert history_count(concierge_ids) == 0
    assert not MemoryMessage.objects.filter(subject_id__in=[owner.member.subject_id,
                                                            colleague.member.subject_id]).exists()
    assert not ExportJob.objects.filter(tenant=tenant).exclude(state=ExportJob.State.ERASED).exists()
    assert list(export_dir.glob("concierge_app.*")) == []
    # every other tenant exactly as before
    assert _tenant_counts("sports_brand_portal") == before_sports == 1200
    assert _tenant_counts("other_app") == before_other == 1001
    assert MemoryEvent.objects.count() == other_history
    assert MemoryMessage.objects.count() == other_messages
    # receipt
    assert job.state == "done" and job.verified and job.percent == 100
    assert job.memories_before == job.memories_erased == 2150 and job.memories_after == 0
    assert job.batches == 6 and job.export_files_erased == 1
    assert job.verification["total"] == 0 and set(job.verification["checks"].values()) == {0}
    receipt = job.erasure_receipt
    assert receipt.kind == ErasureReceipt.Kind.TENANT and receipt.memories_erased == 2150
    assert receipt.remaining_after == 0
    tenant.refresh_from_db()
    assert tenant.offboarded_at is not None
    assert not Membership.objects.filter(tenant=tenant, ended_at__isnull=True).exists()
    assert Membership.objects.filter(tenant__slug="sports_brand_portal", ended_at__isnull=True).exists()


def test_a_job_killed_part_way_resumes_and_ends_with_zero_and_a_correct_receipt(owner, colleague, three_tenants):
    tenant = owner.member.tenant
    job = services.offboarding_start(tenant=tenant, batch_size=300)
    services.offboarding_execute(job=job, worker="doomed", max_batches=3)  # then the process "dies"
    job.refresh_from_db()
    assert job.state == "running" and job.memories_erased == 900 and job.worker == "doomed"
    assert _tenant_counts("concierge_app") == 2150 - 900

    # The queue hands the job to another worker (a stalled job is retried): it resumes.
    offboarding_job_run(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.state == "done" and job.attempts == 2
    assert job.memories_before == 2150 and job.memories_erased == 2150 and job.memories_after == 0
    assert job.verification["total"] == 0
    assert job.erasure_receipt.memories_erased == 2150 and job.erasure_receipt.remaining_after == 0
    assert ErasureReceipt.objects.filter(kind=ErasureReceipt.Kind.TENANT).count() == 1
    assert _tenant_counts("concierge_app") == 0
    assert _tenant_counts("sports_brand_portal") == 1200


def test_a_job_another_process_runs_is_not_run_twice(owner, three_tenants):
    """offboard_app and a worker on the same tenant: the second finds the tenant's lock taken."""
    import threading

    from django.db import connection

    tenant = owner.member.tenant
    job = services.offboarding_start(tenant=tenant)
    held, release, errors = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with services.tenant_work_lock(tenant=tenant, kind="offboarding") as got:
                assert got
                held.set()
                release.wait(10)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    other = threading.Thread(target=hold)
    other.start()
    try:
        assert held.wait(10)
        assert services.offboarding_run(job=job).state == "queued"
        with pytest.raises(TenantBusy):  # the task asks the queue to try again later
            offboarding_job_run(job_id=str(job.pk))
    finally:
        release.set()
        other.join(10)
    assert not errors
    assert services.offboarding_run(job=job).state == "done"


def test_starting_twice_returns_the_same_job_and_running_again_is_harmless(owner, three_tenants):
    tenant = owner.member.tenant
    first = services.offboarding_start(tenant=tenant)
    assert services.offboarding_start(tenant=tenant) == first
    assert OffboardingJob.objects.count() == 1
    job = services.offboarding_run(job=first)
    assert job.state == "done"
    assert services.offboarding_run(job=first).state == "done"  # finished job: nothing to claim
    again = services.offboarding_start(tenant=tenant)
    assert again != first
    again = services.offboarding_run(job=again)
    assert again.state == "done" and again.memories_before == 0 and again.memories_after == 0
    assert _tenant_counts("sports_brand_portal") == 1200


def test_the_receipt_and_job_hold_no_memory_text(owner, three_tenants):
    job = services.offboarding_run(job=services.offboarding_start(tenant=owner.member.tenant))
    blob = str(OffboardingJob.objects.filter(pk=job.pk).values().get())
    assert "remembered fact" not in blob
    assert AccessRecord.objects.filter(tenant=owner.member.tenant).exists()  # the access log is kept


def test_keep_memberships_erases_memories_but_leaves_people_in(owner, three_tenants):
    job = services.offboarding_start(tenant=owner.member.tenant, memberships_action="keep")
    job = services.offboarding_run(job=job)
    assert job.state == "done" and job.memberships_ended == 0
    assert Membership.objects.filter(pk=owner.member.pk, ended_at__isnull=True).exists()
