"""Which extra navigation the signed-in person gets (the pages enforce access themselves)."""

from django.http import HttpRequest

from memportal.memory.models import Membership


def roles(request: HttpRequest) -> dict[str, bool]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "is_tenant_staff": user.is_superuser or Membership.objects.filter(
            user=user, role=Membership.Role.STAFF, ended_at__isnull=True
        ).exists(),
    }
