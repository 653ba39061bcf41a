from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from memportal.offboarding.models import OffboardingJob
from tests.staff.bulk import bulk_memories, table_count

pytestmark = pytest.mark.django_db


def test_offboard_app_with_yes_erases_the_tenant_and_prints_the_receipt(owner, stranger):
    bulk_memories(member=owner.member, count=2500)
    bulk_memories(member=stranger.member, count=10)
    out = io.StringIO()
    call_command("offboard_app", "concierge_app", "--yes", "--batch-size", "1000", stdout=out)
    text = out.getvalue()
    assert "100%" in text and "Done" in text and "2500/2500" in text
    job = OffboardingJob.objects.get()
    assert job.via == "cli" and job.verified and job.batches == 4
    assert table_count("payload->>'app_id' = 'concierge_app'") == 0
    assert table_count("payload->>'app_id' = 'sports_brand_portal'") == 10


def test_offboard_app_aborts_when_the_typed_app_id_does_not_match(owner, monkeypatch):
    bulk_memories(member=owner.member, count=5)
    monkeypatch.setattr("builtins.input", lambda prompt: "sports_brand_portal")
    with pytest.raises(CommandError):
        call_command("offboard_app", "concierge_app", stdout=io.StringIO())
    assert not OffboardingJob.objects.exists()
    assert table_count("payload->>'app_id' = 'concierge_app'") == 5


def test_offboard_app_refuses_an_unknown_app_id(db):
    with pytest.raises(CommandError):
        call_command("offboard_app", "nope", "--yes", stdout=io.StringIO())
