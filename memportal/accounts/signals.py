"""Sign-up joins the default tenant, so a new person has a memory scope from the start."""

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from memportal.memory.tenancy import membership_join_default


@receiver(user_signed_up)
def join_default_tenant(sender, request, user, **kwargs) -> None:
    membership_join_default(user=user)
