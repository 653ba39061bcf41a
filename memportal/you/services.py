"""Writes for the "Your data" pages that span more than one memory-service call."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from memportal import access, erasure
from memportal.memory import services
from memportal.memory.models import ErasureReceipt


def account_delete(*, user: AbstractBaseUser) -> list[ErasureReceipt]:
    """Erase every membership's memories (each with a receipt), then delete the user.

    One transaction: if any erasure fails, the account stays and nothing is half-deleted.
    Receipts survive (their membership/requested_by links become NULL).
    """
    with transaction.atomic():
        # The account's sessions and cache entries are erased (and recounted) with the first
        # membership's receipt; with none left to end (its tenant was offboarded), on their own.
        members = access.person_memberships(user=user)
        receipts = [
            services.membership_end(member=member, requested_by=user, via="you", account=user if n == 0 else None)
            for n, member in enumerate(members)
        ]
        if not members:
            erasure.account_traces_erase(user_id=user.pk, email=user.email)
        user.delete()
    return receipts
