"""A staff export running while a person is erased never publishes the erased memories."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from memportal.memory import services
from memportal.memory.tenant_selectors import AuditFilter
from memportal.staff import services as staff_services
from memportal.staff.models import ExportJob
from tests.scan import database_find, files_find

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_export_running_during_an_erasure_is_cancelled_and_its_file_removed(owner, colleague, staff,
                                                                              export_dir, monkeypatch):
    services.memory_add(member=owner.member, messages="Alice secret kiwi-404")
    services.memory_add(member=colleague.member, messages="Bob likes plums")
    real_chunks = staff_services._export_chunks
    first_written, release = threading.Event(), threading.Event()

    def paused_chunks(**kwargs):
        for n, item in enumerate(real_chunks(**kwargs)):
            yield item
            if n == 1:  # the CSV header, then the first batch (holding Alice's row) is written
                first_written.set()
                release.wait(10)

    monkeypatch.setattr(staff_services, "_export_chunks", paused_chunks)
    job = staff_services.export_job_create(tenant=staff.member.tenant, actor=staff.user, flt=AuditFilter(), fmt="csv")
    claimed = staff_services.export_job_claim()
    assert claimed is not None and claimed.pk == job.pk
    errors: list = []

    def run() -> None:
        try:
            staff_services.export_job_process(job=claimed, batch_size=1)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    assert first_written.wait(30)
    receipt = services.memory_delete_all(member=owner.member)
    release.set()
    worker.join(30)

    assert errors == []
    job.refresh_from_db()
    assert job.state == ExportJob.State.ERASED
    assert files_find(export_dir, ["kiwi-404"]) == []
    assert not export_dir.exists() or not any(export_dir.iterdir())
    assert database_find(["kiwi-404"]) == []
    receipt.refresh_from_db()
    assert receipt.verified and receipt.lines.get(store="export_files").erased >= 1
