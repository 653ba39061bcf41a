"""allauth hooks: where a person lands after signing in."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

from memportal import access
from memportal.memory import selectors
from memportal.you.selectors import memberships_for_request


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Staff and superusers with nothing remembered about them land on their work (offboarding
        for superusers, the staff audit for tenant staff), not on an empty personal page. Anyone
        with memories, and every other person, lands on "Your data". allauth's ?next= wins anyway."""
        user = request.user
        works = user.is_superuser or access.staff_tenants(user=user).exists()
        if works and not any(selectors.memory_count(member=m) for m in memberships_for_request(request)):
            return reverse("offboarding:index" if user.is_superuser else "staff:index")
        return super().get_login_redirect_url(request)
