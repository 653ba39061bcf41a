"""The mem0-platform-compatible API: the paths and shapes mem0ai 2.2.1's MemoryClient calls.

Every view derives its scope from the key's tenant plus the app's own ``user_id`` (mapped by
``memportal.access.access_member_for_key``); no request value is ever handed to mem0 or used
as a subject id. docs/api.md describes each endpoint and what is not implemented.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from memportal import access
from memportal.agents import services as agents_services
from memportal.agents.models import AppKey, MemoryExportRequest
from memportal.agents.services import key_read_record, portal_token_create
from memportal.memory import api_selectors, selectors, services
from memportal.memory.api_selectors import Clause
from memportal.memory.errors import InvalidInput
from memportal.memory.ledger import key_reader_label, memory_reads_record
from memportal.memory.models import MemoryRead, Tenant
from memportal.memory.records import MemoryRecord
from memportal.memory.validation import clean_messages, clean_metadata, clean_page

from .base import NOT_FOUND, ApiError, api_view, clauses_resolve, error_response, json_body, query_params, require
from .filters import clauses_from_json, condition_map_users, condition_parse, filters_parse

ENTITY = frozenset({"user_id", "agent_id", "run_id", "app_id"})
# Platform options the client may send that memportal accepts and does not act on (documented).
PLATFORM_NOOPS = frozenset({
    "org_id", "project_id", "version", "output_format", "async_mode", "enable_graph", "rerank", "fields",
    "categories", "show_expired", "latest_only", "keyword_search", "reference_date", "start_date", "end_date",
    "custom_categories", "custom_instructions", "agent_custom_instructions", "includes", "excludes",
    "immutable", "timestamp", "expiration_date", "structured_data_schema", "infer", "filter_memories",
})


def _page_dicts(tenant: Tenant, records: list[MemoryRecord]) -> list[dict[str, Any]]:
    """Records as platform dicts, with user_id in the app's own terms."""
    names = api_selectors.external_ids_for_subjects(tenant=tenant, subject_ids=[r.subject_id for r in records])
    return [r.as_dict(user_id=names.get(r.subject_id)) for r in records]


def _entities(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data.pop(k) for k in list(data) if k in ENTITY}


@dataclass(frozen=True)
class Selection:
    """A request's filter inside the key's tenant: ``clauses`` (who: the scope, an OR of people,
    agents and runs the app may read) and ``condition`` (everything else, exactly, or None)."""

    clauses: list[Clause]
    condition: Any


def _selection(key: AppKey, filters: Any, top_level: dict[str, Any]) -> Selection:
    clauses = clauses_resolve(key=key, raw=filters_parse(filters, top_level=top_level))
    condition = condition_parse(filters, top_level=top_level)

    def subject(external_id: str) -> str | None:
        member = access.access_member_for_key(key=key, external_id=external_id, create=False, intent=access.READ)
        return member.subject_id if member is not None else None

    return Selection(clauses, condition_map_users(condition, subject))


def _clauses(request: HttpRequest, data: dict[str, Any]) -> Selection:
    return _selection(request.app_key, data.get("filters"), _entities(data))


def _looked(key: AppKey, action: str, records: list[MemoryRecord], clauses: list[Clause] | None = None) -> None:
    """Every read made with a key is a look at the people whose memories it returned ("Who looked")."""
    everyone = any(c.subject_id == api_selectors.ANY for c in clauses or [])
    key_read_record(key=key, action=action, counts=dict(Counter(r.subject_id for r in records)), everyone=everyone)
    # And per memory (the ledger on the memory's page), one statement for the whole answer.
    memory_reads_record(tenant=key.tenant, records=records, via=MemoryRead.Via.KEY, reader=key_reader_label(key.prefix))


@api_view(("GET",))
def ping(request: HttpRequest) -> JsonResponse:
    """The client validates its key here and reads org/project ids from the answer."""
    key = request.app_key
    return JsonResponse({
        "status": "ok", "org_id": f"org_{key.tenant.slug}", "project_id": key.tenant.slug,
        "user_email": None, "app_id": key.tenant.slug, "permissions": key.permissions,
    })


ADD_FIELDS = frozenset({"messages", "metadata", "filters", "infer"}) | ENTITY


@api_view(("POST",))
def memories_add(request: HttpRequest) -> JsonResponse:
    return _add(request)


def _add(request: HttpRequest) -> JsonResponse:
    key = require(request, "write")
    data = json_body(request, allowed=ADD_FIELDS, ignored=PLATFORM_NOOPS)
    scope = _entities(data)
    filters = data.get("filters")
    if filters is not None:
        if not isinstance(filters, dict) or set(filters) - ENTITY:
            raise ApiError(400, "filters on add may only name user_id, agent_id, run_id, app_id.", "filters")
        for name, value in filters.items():
            if scope.get(name) not in (None, value):
                raise ApiError(400, f"{name} differs between filters and the body.", name)
            scope[name] = value
    # Validate everything before anything (even a membership) is created: bad input stores nothing.
    messages = clean_messages(data.get("messages"))
    metadata = clean_metadata(data.get("metadata"))
    infer = data.get("infer", True)  # the platform infers unless told not to
    if not isinstance(infer, bool):
        raise InvalidInput("infer", "must be true or false")
    if scope.get("user_id") is None:
        raise ApiError(400, "user_id is required: memportal stores memories for a person.", "user_id")
    if scope.get("app_id") not in (None, key.tenant.slug):
        raise ApiError(404, NOT_FOUND, "app_id")
    with transaction.atomic():
        member = access.access_member_for_key(
            key=key, external_id=scope["user_id"], create=True, intent=access.WRITE
        )
        outcome = services.memory_remember(
            member=member, messages=messages, agent_id=scope.get("agent_id"), run_id=scope.get("run_id"),
            metadata=metadata or None, infer=infer,
        )
    results = [{**r.as_dict(user_id=member.external_id), "event": "ADD"} for r in outcome.added]
    if access.key_may(key=key, permission="read") and not member.reads_stopped:
        # The existing memory is shown to a key that may read it, and that is a look.
        results += [{**r.as_dict(user_id=member.external_id), "event": "NOOP"} for r in outcome.unchanged]
        _looked(key, "get", outcome.unchanged)
    else:  # a write-only key (or a person who stopped it reading) learns only that nothing new was stored
        results += [{"id": None, "memory": r.text, "user_id": member.external_id, "event": "NOOP"}
                    for r in outcome.unchanged]
    answer: dict[str, Any] = {"results": results, "inference": outcome.inference}
    if outcome.inference == "skipped":
        answer["message"] = INFERENCE_SKIPPED
    return JsonResponse(answer)


INFERENCE_SKIPPED = (
    "Inference was skipped: no language model is configured. The person's own messages were stored "
    "verbatim (assistant and system lines are not), and a message identical to one of their memories "
    "was not stored again (event NOOP). Send infer=false to store every message as is."
)


LIST_FIELDS = frozenset({"filters", "page", "page_size"}) | ENTITY


@api_view(("POST",))
def memories_list(request: HttpRequest) -> JsonResponse:
    key = require(request, "read")
    data = json_body(request, allowed=LIST_FIELDS, ignored=PLATFORM_NOOPS)
    params = query_params(request, allowed=frozenset({"page", "page_size"}))
    page, size = clean_page(
        params.get("page", data.get("page", 1)), params.get("page_size", data.get("page_size", 100))
    )
    selection = _clauses(request, data)
    if not selection.clauses:
        return JsonResponse({"count": 0, "next": None, "previous": None, "results": []})
    result = api_selectors.memory_list_where(tenant=key.tenant, clauses=selection.clauses, page=page,
                                             page_size=size, condition=selection.condition)
    _looked(key, "list", result.items, selection.clauses)

    def link(number: int) -> str:
        return request.build_absolute_uri(f"{request.path}?page={number}&page_size={size}")

    return JsonResponse({
        "count": result.total,
        "next": link(page + 1) if page * size < result.total else None,
        "previous": link(page - 1) if page > 1 else None,
        "results": _page_dicts(key.tenant, result.items),
    })


SEARCH_FIELDS = frozenset({"query", "filters", "top_k", "limit", "threshold"}) | ENTITY


@api_view(("POST",))
def memories_search(request: HttpRequest) -> JsonResponse:
    key = require(request, "read")
    data = json_body(request, allowed=SEARCH_FIELDS, ignored=PLATFORM_NOOPS | {"metadata"})
    top_k = data.get("top_k", data.get("limit", 10))
    threshold = data.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
        raise InvalidInput("threshold", "must be a number")
    if not isinstance(data.get("query"), str):
        raise InvalidInput("query", "must be a non-empty string")
    selection = _clauses(request, data)
    if not selection.clauses:
        return JsonResponse({"results": []})
    records = api_selectors.memory_search_where(
        tenant=key.tenant, clauses=selection.clauses, query=data["query"], limit=top_k, threshold=threshold,
        condition=selection.condition,
    )
    _looked(key, "search", records, selection.clauses)
    return JsonResponse({"results": _page_dicts(key.tenant, records)})


UPDATE_FIELDS = frozenset({"text", "metadata", "timestamp", "expiration_date"})


@api_view(("GET", "PUT", "DELETE"))
def memory_detail(request: HttpRequest, memory_id: str) -> JsonResponse:
    key = require(request, "read" if request.method == "GET" else "write")
    query_params(request, allowed=frozenset({"delete_linked", "org_id", "project_id"}))
    intent = {"GET": access.READ, "PUT": access.WRITE}.get(request.method)  # DELETE: always allowed
    member = access.access_memory_for_key(key=key, memory_id=memory_id, intent=intent)
    if request.method == "GET":
        record = selectors.memory_get(member=member, memory_id=memory_id)
        _looked(key, "get", [record])
        return JsonResponse(record.as_dict(user_id=member.external_id))
    if request.method == "DELETE":
        services.memory_delete(member=member, memory_id=memory_id, via="api")
        return JsonResponse({"message": "Memory deleted successfully!"})
    data = json_body(request, allowed=UPDATE_FIELDS)
    for unsupported in ("metadata", "timestamp", "expiration_date"):
        if data.get(unsupported) is not None:
            raise ApiError(400, f"Updating {unsupported} is not supported; send text.", unsupported)
    if "text" not in data:
        raise ApiError(400, "text is required.", "text")
    record = services.memory_update(member=member, memory_id=memory_id, text=data["text"])
    if member.reads_stopped:  # the app gets back only the text it sent, not the memory's other fields
        return JsonResponse({"id": record.id, "memory": record.text, "message": "Memory updated successfully!"})
    return JsonResponse({**record.as_dict(user_id=member.external_id), "message": "Memory updated successfully!"})


@api_view(("GET",))
def memory_history(request: HttpRequest, memory_id: str) -> JsonResponse:
    key = require(request, "read")
    query_params(request, allowed=frozenset({"org_id", "project_id"}))
    member = access.access_memory_for_key(key=key, memory_id=memory_id, intent=access.READ)
    entries = selectors.memory_history(member=member, memory_id=memory_id)
    key_read_record(key=key, action="history", counts={member.subject_id: 1}, everyone=False)
    memory_reads_record(tenant=key.tenant, records=[selectors.memory_get(member=member, memory_id=memory_id)],
                        via=MemoryRead.Via.KEY, reader=key_reader_label(key.prefix))
    return JsonResponse([
        {"memory_id": str(memory_id), "user_id": member.external_id, "event": e.event, "old_memory": e.old_text,
         "new_memory": e.new_text, "role": e.role, "created_at": e.at.isoformat() if e.at else None}
        for e in entries
    ], safe=False)


@api_view(("POST", "DELETE"))
def memories_root(request: HttpRequest) -> HttpResponse:
    """/v1/memories/: DELETE is the client's delete_all; POST is the v1 add."""
    if request.method == "POST":
        return _add(request)
    return _delete_all(request)


def _delete_all(request: HttpRequest) -> JsonResponse:
    key = request.app_key
    params = query_params(request, allowed=ENTITY | {"org_id", "project_id", "confirm_app_id"})
    scope = {k: params.get(k) for k in ENTITY}
    if scope["app_id"] is not None and scope["app_id"] != key.tenant.slug:
        raise ApiError(404, NOT_FOUND, "app_id")
    if scope["user_id"] is None and scope["agent_id"] is None and scope["run_id"] is None:
        if scope["app_id"] is None:
            raise ApiError(400, "delete_all needs user_id, agent_id, run_id or (tenant admin) app_id.", "user_id")
        return offboard_start(request, params.get("confirm_app_id"))
    require(request, "write")
    raw = filters_parse(None, top_level={k: v for k, v in scope.items() if k != "app_id"})  # validates the ids
    if any(v == "*" for v in scope.values()):
        raise ApiError(400, "'*' is not allowed in a deletion.", "user_id")
    if scope["user_id"] is None:
        clauses_resolve(key=key, raw=raw)  # the same validation as a direct delete
        return tenant_delete_queue(key, agent_id=scope["agent_id"], run_id=scope["run_id"])
    member = access.access_member_for_key(key=key, external_id=scope["user_id"], create=False)
    erased = 0
    if member is not None:
        receipt = services.memory_delete_all(
            member=member, agent_id=scope["agent_id"], run_id=scope["run_id"], via="api"
        )
        erased = receipt.memories_erased
    return JsonResponse({"message": "Memories deleted successfully!", "deleted": erased})


def tenant_delete_queue(key: AppKey, *, agent_id: str | None = None, run_id: str | None = None) -> JsonResponse:
    """Every person of the tenant with memories of this agent/session: a queued job, not a loop
    inside the request (resumable, one receipt per person). 202 with the job to follow."""
    job = agents_services.tenant_delete_start(key=key, agent_id=agent_id, run_id=run_id)
    return JsonResponse({
        "message": "Deletion queued: every person's memories in this scope will be erased, each with a receipt.",
        "job_id": str(job.pk), "status_url": reverse("agents:delete_job", kwargs={"job_id": job.pk}),
    }, status=202)


@api_view(("GET",))
def delete_job(request: HttpRequest, job_id: str) -> JsonResponse:
    """Progress and verification of a tenant-wide delete (people done/total, memories erased)."""
    key = require(request, "read")
    query_params(request, allowed=frozenset({"org_id", "project_id"}))
    return JsonResponse(access.access_delete_job_for_key(key=key, job_id=job_id).as_dict())


def offboard_start(request: HttpRequest, confirm: str | None) -> JsonResponse:
    """Tenant offboarding through the API: only with a tenant-admin key made by a superuser and
    ``confirm_app_id=<the tenant's app_id>`` (memportal.access.access_key_offboarding)."""
    tenant = access.access_key_offboarding(key=request.app_key, confirm=confirm)
    from memportal.offboarding.services import offboarding_start  # another app; imported when used

    job = offboarding_start(tenant=tenant, requested_by=request.app_key.created_by, via="api")
    return JsonResponse(
        {"message": "Tenant offboarding started: every memory of this app will be erased.", "job_id": str(job.pk)},
        status=202,
    )


EXPORT_FIELDS = frozenset({"schema", "filters", "export_instructions"}) | ENTITY


@api_view(("POST",))
def exports_create(request: HttpRequest) -> JsonResponse:
    key = require(request, "read")
    data = json_body(request, allowed=EXPORT_FIELDS)
    schema = data.get("schema")
    if schema is not None and not isinstance(schema, str | dict):
        raise InvalidInput("schema", "must be a JSON schema (object or string)")
    stored = {"filters": data.get("filters"), "top_level": _entities(data)}
    _selection(key, stored["filters"], stored["top_level"])  # validates now rather than at download
    export = MemoryExportRequest.objects.create(tenant=key.tenant, app_key=key, filters=stored)
    return JsonResponse({"message": "Memory export request received. The export is ready now.", "id": str(export.id)},
                        status=201)


@api_view(("POST",))
def exports_get(request: HttpRequest) -> HttpResponse:
    key = require(request, "read")
    data = json_body(request, allowed=frozenset({"memory_export_id", "filters"}) | ENTITY)
    export_id = data.pop("memory_export_id", None)
    if export_id is not None:
        export = MemoryExportRequest.objects.filter(tenant=key.tenant, id=_uuid_or_none(export_id)).first()
        if export is None:
            raise ApiError(404, NOT_FOUND, "memory_export_id")
        ident, created = str(export.id), export.created_at
        if isinstance(export.filters, dict):
            selection = _selection(key, export.filters.get("filters"), export.filters.get("top_level") or {})
        else:  # stored before conditions existed: a list of entity clauses
            selection = Selection(clauses_resolve(key=key, raw=clauses_from_json(export.filters)), None)
    else:
        selection, ident, created = _selection(key, data.get("filters"), _entities(data)), None, timezone.now()
    # Computed at download and streamed: nothing holding memory text is stored for later.
    response = StreamingHttpResponse(
        _export_stream(key, selection, ident, created), content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    return response


def _uuid_or_none(value: Any) -> str | None:
    import uuid

    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


def _export_stream(key: AppKey, selection: Selection, ident: str | None, created: Any) -> Iterator[str]:
    tenant, clauses = key.tenant, selection.clauses
    head = {"id": ident, "status": "completed", "app_id": tenant.slug, "created_at": created.isoformat()}
    yield json.dumps(head)[:-1] + ', "memories": ['
    if clauses:
        batch: list[MemoryRecord] = []
        first = True
        for record in api_selectors.memory_iter_where(tenant=tenant, clauses=clauses, condition=selection.condition):
            batch.append(record)
            if len(batch) == 500:
                _looked(key, "export", batch, clauses)
                yield ("" if first else ",") + ",".join(json.dumps(d) for d in _page_dicts(tenant, batch))
                first, batch = False, []
        if batch:
            _looked(key, "export", batch, clauses)
            yield ("" if first else ",") + ",".join(json.dumps(d) for d in _page_dicts(tenant, batch))
    yield "]}"


@api_view(("POST",))
def portal_sessions(request: HttpRequest) -> JsonResponse:
    """A one-time link (valid minutes) that signs this person into their "your data" page."""
    key = require(request, "write")
    data = json_body(request, allowed=frozenset({"user_id", "return_url"}))
    if data.get("user_id") is None:
        raise ApiError(400, "user_id is required.", "user_id")
    # Created if new, so an app's "See what we remember about you" button works before any memory.
    member = access.access_member_for_key(key=key, external_id=data["user_id"], create=True)
    token, raw = portal_token_create(member=member, app_key=key)
    url = request.build_absolute_uri(reverse("agents:portal_enter", args=[raw]))
    return JsonResponse({"url": url, "expires_at": token.expires_at.isoformat()}, status=201)


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """An unknown path under the API (any method): JSON, like every other API answer."""
    return error_response(404, f"No such endpoint: {request.method} {request.path}")
