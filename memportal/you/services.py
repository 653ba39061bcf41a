"""Writes for the "Your data" pages that span more than one memory-service call."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from memportal import access
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
        user.delete()
    return receipts
