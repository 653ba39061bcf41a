"""A memory being written while the person's account is erased never survives the erasure.

The writer holds its transaction open after inserting; the erasure starts meanwhile. Without
the membership row lock the erasure would run first and the late commit would leave a memory
of an ended membership behind.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from memportal.memory import services
from memportal.memory.errors import MembershipEnded, MemoryPaused
from memportal.memory.records import TABLE


def _rows_of(subject_id: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE payload->>'user_id' = %s", [subject_id])
        return cursor.fetchone()[0]


def _start_add_held_open(member, text: str) -> tuple[threading.Thread, threading.Event, list]:
    """Start an add in another thread and keep its transaction open until ``proceed`` is set
    (plus half a second, so a correct erasure or pause is by then waiting on the writer's lock)."""
    written, proceed, errors = threading.Event(), threading.Event(), []

    def writer() -> None:
        try:
            with transaction.atomic():
                services.memory_add(member=member, messages=text)
                written.set()
                proceed.wait(10)
                time.sleep(0.5)
        except Exception as exc:  # pragma: no cover - surfaced by the callers' assertions
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(30)
    return thread, proceed, errors


@pytest.mark.django_db(transaction=True)
def test_an_add_in_flight_is_erased_with_the_account(owner):
    member = owner.member
    thread, proceed, errors = _start_add_held_open(member, "Written while the account is being deleted")
    proceed.set()
    services.membership_end(member=member)
    thread.join(30)

    assert errors == []
    assert _rows_of(member.subject_id) == 0
    with pytest.raises(MembershipEnded):
        services.memory_add(member=member, messages="after the end")


@pytest.mark.django_db(transaction=True)
def test_a_pause_waits_for_the_add_in_flight_and_refuses_the_next(owner):
    member = owner.member
    thread, proceed, errors = _start_add_held_open(member, "Written just before the pause")
    proceed.set()
    started = time.monotonic()
    services.memory_pause_set(member=member, paused=True)
    waited = time.monotonic() - started
    thread.join(30)

    assert waited >= 0.3  # the pause waited for the writer's lock instead of passing it by

    assert errors == []
    assert _rows_of(member.subject_id) == 1
    with pytest.raises(MemoryPaused):
        services.memory_add(member=member, messages="after the pause")
