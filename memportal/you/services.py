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
        receipts = [
            services.membership_end(member=member, requested_by=user, via="you", account=user)
            for member in access.person_memberships(user=user)
        ]
        # Also when no membership was left to end (its tenant was offboarded): the account's other
        # sessions and cache entries go with it.
        erasure.account_traces_erase(user_id=user.pk, email=user.email)
        user.delete()
    return receipts
