"""Plumbing shared by the API views: token auth, rate limit, JSON in and out, error mapping.

Only views wrapped by ``api_view`` are CSRF-exempt: they authenticate by the
``Authorization: Token <key>`` header alone and never read a session cookie.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from memportal.agents.models import AppKey
from memportal.agents.selectors import appkey_authenticate
from memportal.agents.services import appkey_touch
from memportal.memory.api_selectors import ANY, Clause
from memportal.memory.errors import InvalidInput, MembershipEnded, MemoryNotFound, MemoryPaused
from memportal.memory.models import Tenant
from memportal.memory.tenancy import access_membership_for_external

from .filters import RawClause

DEFAULT_RATE_LIMIT = 600  # requests per key per minute


class ApiError(Exception):
    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field


NOT_FOUND = "Not found."


def error_response(status: int, detail: str, field: str | None = None, **headers: str) -> JsonResponse:
    # "detail" is what mem0's client shows in its exception; "error"/"field" are for humans and tools.
    response = JsonResponse({"error": detail, "detail": detail, "field": field}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def rate_limit() -> int:
    return int(settings.MEMPORTAL.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT))


def _rate_limited(key: AppKey) -> int | None:
    """Seconds to wait when the key used up this minute's budget, else None."""
    window = int(time.time() // 60)
    cache_key = f"memportal:api:{key.pk}:{window}"
    if cache.add(cache_key, 1, timeout=120):
        return None
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=120)
        return None
    return 60 - int(time.time() % 60) if count > rate_limit() else None


def _authenticate(request: HttpRequest) -> AppKey | None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() not in {"token", "bearer"}:
        return None
    return appkey_authenticate(raw=raw.strip())


def api_view(methods: tuple[str, ...]) -> Callable:
    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return error_response(405, f"Method {request.method} not allowed.", Allow=", ".join(methods))
            key = _authenticate(request)
            if key is None:
                return error_response(401, "Invalid, revoked or expired API key.")
            wait = _rate_limited(key)
            if wait is not None:
                return error_response(429, "Rate limit exceeded for this API key.", Retry_After=str(max(wait, 1)))
            appkey_touch(key=key)
            request.app_key = key
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return error_response(exc.status, exc.detail, exc.field)
            except InvalidInput as exc:
                return error_response(400, f"{exc.field}: {exc.message}", exc.field)
            except MemoryNotFound:
                return error_response(404, NOT_FOUND)
            except MemoryPaused as exc:
                return error_response(423, str(exc))
            except MembershipEnded as exc:
                return error_response(410, str(exc))
            except RequestDataTooBig:
                return error_response(413, "Request body too large.")

        return wrapped

    return decorate


def require(request: HttpRequest, permission: str) -> AppKey:
    key: AppKey = request.app_key
    allowed = {"read": key.can_read, "write": key.can_write, "tenant_admin": key.can_admin}[permission]
    if not allowed:
        raise ApiError(403, f"This API key lacks the '{permission}' permission.")
    return key


def json_body(request: HttpRequest, *, allowed: frozenset[str], ignored: frozenset[str] = frozenset()) -> dict:
    """The JSON object body, with unknown fields refused and accepted-but-unused ones dropped."""
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Request body is not valid JSON.", "body") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "Request body must be a JSON object.", "body")
    unknown = set(data) - allowed - ignored
    if unknown:
        name = sorted(unknown)[0]
        raise ApiError(400, f"Unknown field: {name}.", name)
    return {k: v for k, v in data.items() if k in allowed}


def query_params(request: HttpRequest, *, allowed: frozenset[str]) -> dict[str, str]:
    unknown = set(request.GET) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise ApiError(400, f"Unknown parameter: {name}.", name)
    return {k: request.GET[k] for k in request.GET}


def clauses_resolve(*, tenant: Tenant, raw: list[RawClause]) -> list[Clause]:
    """Raw filter clauses -> service clauses inside the key's tenant.

    Alternatives naming another app_id or a user the tenant does not know drop out, so the
    answer is the same as for a missing one (empty). Nothing is ever created by a read.
    """
    clauses: list[Clause] = []
    for item in raw:
        if item.app_id not in (None, ANY, tenant.slug):
            continue
        if item.user_id is None or item.user_id == ANY:
            subject = ANY
        else:
            member = access_membership_for_external(tenant=tenant, external_id=item.user_id, create=False)
            if member is None:
                continue
            subject = member.subject_id
        clause = Clause(subject_id=subject, agent_id=item.agent_id, run_id=item.run_id)
        if clause not in clauses:
            clauses.append(clause)
    return clauses
