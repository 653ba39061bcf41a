"""Plumbing shared by the API views: token auth, rate limit, JSON in and out, error mapping.

Only views wrapped by ``api_view`` are CSRF-exempt: they authenticate by the
``Authorization: Token <key>`` header alone and never read a session cookie.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from memportal import access
from memportal.agents.models import AppKey
from memportal.agents.ratelimit import rate_limit_wait
from memportal.agents.services import appkey_touch
from memportal.memory.api_selectors import ANY, Clause
from memportal.memory.errors import InvalidInput, MembershipEnded, MemoryLocked, MemoryNotFound
from memportal.memory.validation import MAX_JSON_DEPTH, has_surrogate, json_node_problem, json_nodes, json_path

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
    """Seconds to wait when the key used up this minute's budget, else None (one atomic upsert)."""
    return rate_limit_wait(key_id=key.pk, limit=rate_limit())


def _authenticate(request: HttpRequest) -> AppKey | None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() not in {"token", "bearer"}:
        return None
    return access.access_key_for_secret(raw=raw.strip())


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
            except (MemoryNotFound, access.NotFound):
                return error_response(404, NOT_FOUND)
            except access.Forbidden as exc:
                return error_response(403, str(exc))
            except MemoryLocked as exc:  # the person stopped this app remembering or reading them
                return error_response(423, str(exc))
            except MembershipEnded as exc:
                return error_response(410, str(exc))
            except RequestDataTooBig:
                return error_response(413, "Request body too large.")

        return wrapped

    return decorate


def require(request: HttpRequest, permission: str) -> AppKey:
    key: AppKey = request.app_key
    if not access.key_may(key=key, permission=permission):
        raise ApiError(403, f"This API key lacks the '{permission}' permission.")
    return key


#: Deepest nesting of a request body (32). Real bodies need about 12 levels (filters nest 4); a limit
#: checked before parsing keeps json's recursive decoder and every walk below far from the stack's end.
MAX_BODY_DEPTH = MAX_JSON_DEPTH
# JSON strings (escapes included) and, separately, anything that is not a bracket: removing both
# leaves exactly the structural brackets, whose running count is the nesting depth.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class _NotFinite(ValueError):
    """NaN, Infinity, -Infinity or a float literal too large for a double: Python's json accepts
    them, but they are not JSON and PostgreSQL's jsonb (and every comparison) refuses them."""


def _not_finite(token: str) -> float:
    raise _NotFinite(token[:20])


def _finite_float(token: str) -> float:
    value = float(token)
    if abs(value) == float("inf"):  # "1e999" overflows; no literal can give NaN
        _not_finite(token)
    return value


class _DuplicateKeys(dict):
    """An object that named one key twice: json keeps the last silently, so {"user_id": "nobody",
    "user_id": "victim"} would act on the victim while a log or a review reads the first."""

    def __init__(self, pairs: list[tuple[str, Any]], duplicate: str) -> None:
        super().__init__(pairs)
        self.duplicate = duplicate


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            # Marked, not raised: the walk in _json_loads reports it with its full path.
            return _DuplicateKeys(pairs, key)
        seen.add(key)
    return obj  # unreachable: fewer keys than pairs means a repeat


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit``, without parsing or recursion."""
    depth = 0
    for bracket in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


def _json_loads(raw: bytes) -> Any:
    """Strict JSON: bounded depth, finite numbers, unique keys, and strings that are text."""
    try:
        # json.loads(bytes) would decode exactly so; decoding here lets the depth check see text.
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "Request body is not valid JSON.", "body") from exc
    too_deep = f"Request body is nested too deeply (more than {MAX_BODY_DEPTH} levels)."
    if _depth_exceeds(text, MAX_BODY_DEPTH):
        raise ApiError(400, too_deep, "body")
    try:
        data = json.loads(
            text, parse_constant=_not_finite, parse_float=_finite_float, object_pairs_hook=_json_object
        )
    except _NotFinite as exc:
        raise ApiError(400, f"Request body contains {exc}, which is not a finite number: not valid JSON.",
                       "body") from exc
    except ValueError as exc:
        raise ApiError(400, "Request body is not valid JSON.", "body") from exc
    except RecursionError as exc:  # last resort; the depth check above should make it unreachable
        raise ApiError(400, too_deep, "body") from exc
    for path, node, depth in json_nodes(data):
        problem = json_node_problem(node, depth=depth, max_depth=MAX_BODY_DEPTH)
        if problem is not None:
            field = path or "body"
            raise ApiError(400, f"{field}: {problem}.", field)
        if isinstance(node, _DuplicateKeys):
            field = json_path(path, node.duplicate)
            raise ApiError(400, f"{field}: given more than once in one JSON object.", field)
    return data


def json_body(request: HttpRequest, *, allowed: frozenset[str], ignored: frozenset[str] = frozenset()) -> dict:
    """The JSON object body, with unknown fields refused and accepted-but-unused ones dropped.

    Everything the strict parse refuses (see ``_json_loads``) is a 400 naming the field, before
    any view code runs: nothing can be stored or erased from such a body.
    """
    if not request.body:
        return {}
    data = _json_loads(request.body)
    if not isinstance(data, dict):
        raise ApiError(400, "Request body must be a JSON object.", "body")
    unknown = set(data) - allowed - ignored
    if unknown:
        name = sorted(unknown)[0]
        raise ApiError(400, f"Unknown field: {name}.", name)
    return {k: v for k, v in data.items() if k in allowed}


def query_params(request: HttpRequest, *, allowed: frozenset[str]) -> dict[str, str]:
    """The query parameters, each given at most once.

    ``QueryDict`` keeps every value and ``[]`` returns the last, so ``DELETE
    /v1/memories/?user_id=nobody&user_id=victim`` erased the victim: a repeat is refused instead.
    """
    unknown = set(request.GET) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise ApiError(400, f"Unknown parameter: {name}.", name)
    params: dict[str, str] = {}
    for name, values in sorted(request.GET.lists()):
        if len(values) > 1:
            raise ApiError(400, f"Parameter {name} given more than once.", name)
        # Django decodes the query string with replacement characters; this guards other servers.
        if has_surrogate(values[0]):
            raise ApiError(400, f"Parameter {name} contains an unpaired surrogate.", name)
        params[name] = values[0]
    return params


def clauses_resolve(*, key: AppKey, raw: list[RawClause]) -> list[Clause]:
    """Raw filter clauses -> service clauses inside the key's tenant.

    Alternatives naming another app_id or a user the tenant does not know drop out, so the
    answer is the same as for a missing one (empty). Nothing is ever created by a read. Naming a
    person who stopped the app reading is 423 (``access.member_intent_check``).
    """
    tenant = key.tenant
    clauses: list[Clause] = []
    for item in raw:
        if item.app_id not in (None, ANY, tenant.slug):
            continue
        if item.user_id is None or item.user_id == ANY:
            subject = ANY
        else:
            member = access.access_member_for_key(
                key=key, external_id=item.user_id, create=False, intent=access.READ
            )
            if member is None:
                continue
            subject = member.subject_id
        clause = Clause(subject_id=subject, agent_id=item.agent_id, run_id=item.run_id)
        if clause not in clauses:
            clauses.append(clause)
    return clauses
