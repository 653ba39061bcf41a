"""The export job page says what is exported in words and why a file is gone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from memportal.memory import services
from memportal.memory.tenant_selectors import AuditFilter
from memportal.staff.models import ExportJob
from memportal.staff.services import export_files_erase, export_job_create, export_job_process

pytestmark = pytest.mark.django_db


def _page(client, job) -> str:
    return client.get(f"/staff/{job.tenant.slug}/export/jobs/{job.pk}/").content.decode()


def test_it_shows_the_filter_in_words_not_a_python_dict(client, staff, owner):
    services.memory_add(member=owner.member, messages="alice likes tea", agent_id="concierge")
    flt = AuditFilter(person=owner.member.subject_id, agent="concierge", text="tea",
                      date_from=timezone.now().date() - timedelta(days=3))
    job = export_job_create(tenant=owner.member.tenant, actor=staff.user, flt=flt, fmt="csv")
    client.force_login(staff.user)
    body = _page(client, job)
    assert "<dt>Agent</dt><dd>concierge</dd>" in body
    assert "<dt>Text contains</dt><dd>“tea”</dd>" in body
    assert "<dt>Person</dt><dd>alice@example.com</dd>" in body  # a label, not a subject id
    assert "{&#x27;" not in body and "None" not in body and owner.member.subject_id not in body


def test_a_file_removed_by_an_erasure_says_so_even_after_its_expiry(client, staff, owner,
                                                                     django_capture_on_commit_callbacks):
    services.memory_add(member=owner.member, messages="alice likes tea")
    job = export_job_process(job=export_job_create(tenant=owner.member.tenant, actor=staff.user,
                                                   flt=AuditFilter(), fmt="jsonl"))
    with django_capture_on_commit_callbacks(execute=True):
        services.memory_delete_all(member=owner.member)
    client.force_login(staff.user)
    body = _page(client, job)
    assert "Removed by an erasure on" in body and "Expired" not in body
    assert "The file expires" not in body  # no future expiry under a file that is gone

    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    export_files_erase(expired_only=True)  # the periodic sweep must not relabel it "expired"
    job.refresh_from_db()
    assert job.state == ExportJob.State.ERASED
    assert "Removed by an erasure on" in _page(client, job)
