"""Sign-up joins the default tenant, so a new person has a memory scope from the start."""

from contextlib import suppress

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from memportal.memory.errors import MembershipEnded
from memportal.memory.tenancy import membership_join_default


@receiver(user_signed_up)
def join_default_tenant(sender, request, user, **kwargs) -> None:
    """Signing up is the explicit action that joins the sign-up tenant (nothing else joins anyone)."""
    with suppress(MembershipEnded):  # the sign-up tenant was offboarded: the account has no memory space
        membership_join_default(user=user)
