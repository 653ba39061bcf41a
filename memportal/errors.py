"""Branded error pages (templates/403.html, 404.html, 500.html), JSON on the API's paths.

The mem0 clients show an error body as the exception's message, so the API's paths keep their
``{"detail": ...}`` JSON (memportal.agents.api.base.error_response) even when an error escapes a
view; people get a page in the site's layout that says what happened and where to go.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template

# The API's paths (memportal/agents/urls.py): /v1/…, /api/v1/…, /api/openapi.json, but not the
# staff's key page under /api/keys/.
API_PATH = re.compile(r"^/(?:api/)?v[0-9]+/|^/api/openapi\.json$")


def _is_api(request: HttpRequest) -> bool:
    return bool(API_PATH.match(request.path))


def _json(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"error": detail, "detail": detail, "field": None}, status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # memportal.access.Forbidden carries a reason written for people ("Staff only."); a bare
    # PermissionDenied (e.g. a failed CSRF check) has none and the page says so generically.
    reason = str(exception) if isinstance(exception, PermissionDenied) and str(exception) else ""
    if _is_api(request):
        return _json(403, reason or "Forbidden.")
    return render(request, "403.html", {"reason": reason}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Never echo the exception: "No Tenant matches the given query" would tell what exists.
    if _is_api(request):
        return _json(404, f"No such endpoint: {request.method} {request.path}")
    return render(request, "404.html", {"request_path": request.path}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _json(500, "Internal server error.")
    # No context processors here: whatever broke may be one of them (or the database).
    return HttpResponse(get_template("500.html").render(), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403.html", {
        "reason": "The form had expired or came from another site. Go back, reload the page and try again.",
    }, status=403)
