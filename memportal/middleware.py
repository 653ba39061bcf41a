"""Responses for signed-in people are never stored by browsers or shared caches."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

# Anonymous pages that still show or spend something private: the one-time portal link.
PRIVATE_ANONYMOUS_VIEWS = frozenset({"agents:portal_enter"})


class PrivateNoStoreMiddleware:
    """``Cache-Control: private, no-store`` on every response to a signed-in user.

    Pages under /you/, /staff/, /offboarding/, receipts and the account pages show one person's
    memories or an audit trail; a shared proxy must not keep them and the browser must not
    show them again from its cache after sign-out (the back button on a shared computer).
    Directives a view already set (``no-store``, ``max-age=0``) are kept: this only adds.
    Sits after AuthenticationMiddleware; the view has already loaded ``request.user``, so
    checking it costs no query.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if _is_private(request):
            patch_cache_control(response, private=True, no_store=True)
        return response


def _is_private(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    match = request.resolver_match
    return match is not None and match.view_name in PRIVATE_ANONYMOUS_VIEWS
