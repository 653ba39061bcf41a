"""A person's erasure also removes staff export files that may hold their memories."""

from __future__ import annotations

import pytest

from memportal.memory import services
from memportal.memory.tenant_selectors import AuditFilter
from memportal.staff.models import ExportJob
from memportal.staff.services import export_job_create, export_job_path, export_job_process

pytestmark = pytest.mark.django_db


def test_erasing_a_person_deletes_export_files_of_their_tenant(staff, owner, stranger,
                                                               django_capture_on_commit_callbacks):
    services.memory_add(member=owner.member, messages="alice secret preference")
    services.memory_add(member=stranger.member, messages="jane keeps hers")
    job = export_job_create(tenant=owner.member.tenant, actor=staff.user, flt=AuditFilter(), fmt="jsonl")
    job = export_job_process(job=job)
    path = export_job_path(job)
    assert "alice secret preference" in path.read_text()

    with django_capture_on_commit_callbacks(execute=True):
        services.memory_delete_all(member=owner.member)

    assert not path.exists()
    job.refresh_from_db()
    assert job.state == ExportJob.State.ERASED  # "removed by an erasure", not "expired"
