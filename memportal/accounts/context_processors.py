"""Which extra navigation the signed-in person gets (the pages enforce access themselves)."""

from django.http import HttpRequest

from memportal.memory.models import Membership


def roles(request: HttpRequest) -> dict[str, bool]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if user.is_superuser:
        return {"is_tenant_staff": True}
    # The memberships the page itself already loaded (one query per request, not two).
    from memportal.you.selectors import memberships_for_request

    return {"is_tenant_staff": any(m.role == Membership.Role.STAFF for m in memberships_for_request(request))}
