"""Auto-delete and delete by date go through the erasure registry: after commit, no table holds
the erased memories' text anywhere, and the receipt's independent recount finds 0 in every store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from memportal.memory import services
from memportal.memory.imports import memory_import
from memportal.memory.mem0_backend import DjangoHistoryStore
from memportal.memory.models import ErasureReceipt, Membership, MemoryFeedback, MemoryMessage
from memportal.memory.records import TABLE
from memportal.memory.retention import memory_erase_range, retention_run
from tests.scan import database_find

pytestmark = pytest.mark.django_db(transaction=True)


def _age(memory_id: str, days: float) -> None:
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET payload = jsonb_set(payload, '{{created_at}}', to_jsonb(%s::text)) "
                    "WHERE id = %s", [(timezone.now() - timedelta(days=days)).isoformat(), memory_id])


def test_auto_delete_leaves_no_text_of_the_erased_memories_in_any_table(owner, colleague):
    old = services.memory_add(member=owner.member, messages="Alice quokka-101", agent_id="a", run_id="r")[0]
    services.memory_update(member=owner.member, memory_id=old.id, text="Alice quokka-102")
    _age(old.id, 120)
    imported = memory_import(member=owner.member, texts=["Alice quokka-103"]).added[0]
    _age(imported.id, 120)
    MemoryFeedback.objects.create(tenant=owner.member.tenant, memory_id=old.id, subject_id=owner.member.subject_id,
                                  rating="NEGATIVE", reason="quokka-104", key_prefix="abcd")
    DjangoHistoryStore().save_messages([{"role": "user", "content": "Alice quokka-105"}],
                                       f"user_id={owner.member.subject_id}")
    MemoryMessage.objects.filter(content="Alice quokka-105").update(created_at=timezone.now() - timedelta(days=120))
    services.memory_add(member=owner.member, messages="Alice keeps kiwi-1")
    services.memory_add(member=colleague.member, messages="Bob quokka-keeps")
    old_bob = services.memory_add(member=colleague.member, messages="Bob's old kiwi-2")[0]
    _age(old_bob.id, 120)
    Membership.objects.filter(pk=owner.member.pk).update(retention_months=3)

    receipts = retention_run()

    assert database_find([f"quokka-10{n}" for n in range(1, 6)]) == []
    assert database_find(["Alice keeps kiwi-1"]) != [] and database_find(["Bob's old kiwi-2"]) != []
    receipt = ErasureReceipt.objects.get(pk=receipts[0].pk)
    assert receipt.memories_erased == 2 and receipt.message_rows_erased == 1
    assert receipt.verified and all(line.remaining == 0 for line in receipt.lines.all())


def test_delete_by_date_leaves_no_text_in_any_table_and_verifies(owner):
    recent = services.memory_add(member=owner.member, messages="Alice wombat-201")[0]
    services.memory_update(member=owner.member, memory_id=recent.id, text="Alice wombat-202")
    older = services.memory_add(member=owner.member, messages="Alice keeps this older one")[0]
    _age(older.id, 3)
    now = timezone.now()
    receipt = memory_erase_range(member=owner.member, start=now - timedelta(hours=1), end=now,
                                 requested_by=owner.user)
    assert database_find(["wombat-201", "wombat-202"]) == []
    assert database_find(["Alice keeps this older one"]) != []
    receipt.refresh_from_db()
    assert receipt.kind == "range" and receipt.memories_erased == 1 and receipt.verified
