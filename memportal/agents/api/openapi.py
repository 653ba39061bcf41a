"""OpenAPI 3.1 description of what the API implements, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

ID = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}$", "maxLength": 128}
ID_OR_ANY = {"oneOf": [ID, {"const": "*"}, {"type": "object", "properties": {"in": {"type": "array", "items": ID,
                                                                                    "minItems": 1, "maxItems": 16}},
                                             "required": ["in"], "additionalProperties": False}]}
DATES = {"type": "object", "additionalProperties": False, "minProperties": 1,
         "properties": {op: {"type": "string", "format": "date"} for op in ("gt", "gte", "lt", "lte")}}
FILTER: dict[str, Any] = {
    "type": "object",
    "description": "v2 filters: user_id/agent_id/run_id/app_id (an id, '*' = any non-null value, {in: [...]}, "
                   "{eq: id} or {ne: id}), created_at/updated_at {gt|gte|lt|lte: ISO date}, start_date, end_date, "
                   "metadata {key: value | {eq|ne|contains: value}}, keywords (text or {contains|icontains}), "
                   "memory_ids [uuid], categories [name], combined with AND/OR lists and NOT. Every alternative "
                   "must name people, agents or runs; always evaluated inside the key's tenant.",
    "properties": {
        "user_id": ID_OR_ANY, "agent_id": ID_OR_ANY, "run_id": ID_OR_ANY, "app_id": ID_OR_ANY,
        "created_at": DATES, "updated_at": DATES,
        "start_date": {"type": "string", "format": "date"}, "end_date": {"type": "string", "format": "date"},
        "metadata": {"type": "object", "maxProperties": 100},
        "keywords": {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 500}, {"type": "object"}]},
        "memory_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}, "minItems": 1, "maxItems": 100},
        "categories": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 100},
        "AND": {"type": "array", "items": {"$ref": "#/components/schemas/Filters"}, "minItems": 1},
        "OR": {"type": "array", "items": {"$ref": "#/components/schemas/Filters"}, "minItems": 1},
        "NOT": {"$ref": "#/components/schemas/Filters"},
    },
    "additionalProperties": False,
    "minProperties": 1,
}
MESSAGE = {"type": "object", "required": ["role", "content"], "additionalProperties": False,
           "properties": {"role": {"enum": ["user", "assistant", "system"]},
                          "content": {"type": "string", "minLength": 1, "maxLength": 2000}}}
MEMORY = {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "memory": {"type": "string"}, "user_id": {"type": ["string", "null"]},
    "agent_id": {"type": ["string", "null"]}, "run_id": {"type": ["string", "null"]},
    "app_id": {"type": ["string", "null"]}, "metadata": {"type": ["object", "null"]},
    "created_at": {"type": ["string", "null"]}, "updated_at": {"type": ["string", "null"]},
    "score": {"type": "number"}}}
ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "detail": {"type": "string"},
                                          "field": {"type": ["string", "null"]}}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: dict[str, Any], *, body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None, status: str = "200") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {
        status: {"description": "OK", **_json(ok)},
        **{code: {"description": text, **_json({"$ref": "#/components/schemas/Error"})} for code, text in (
            ("400", "Bad input; nothing stored"), ("401", "Missing, invalid, revoked or expired key"),
            ("403", "The key lacks the permission"), ("404", "Not found (also: another tenant's, unknown person)"),
            ("423", "The person paused memory; writes refused"), ("429", "Rate limit per key"))}}}
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    if params:
        op["parameters"] = params
    return op


def _q(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


MEMORY_ID = {"name": "memory_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
MESSAGES = {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 2000},
                      {"type": "array", "items": MESSAGE, "minItems": 1, "maxItems": 50}]}
LIST = {"type": "object", "properties": {"count": {"type": "integer"}, "next": {"type": ["string", "null"]},
                                         "previous": {"type": ["string", "null"]},
                                         "results": {"type": "array", "items": MEMORY}}}
RESULTS = {"type": "object", "properties": {"results": {"type": "array", "items": MEMORY}}}
MESSAGE_OUT = {"type": "object", "properties": {"message": {"type": "string"}}}

#: Refused with a JSON 501 naming the feature (docs/api.md says why).
UNIMPLEMENTED = [
    "POST /v1/summary/ (get_summary: needs an LLM; with one, not implemented yet)",
    "/v2/profiles/* and /v2/entities/user/{id}/profile/ (profiles: memportal keeps memories, not profiles)",
    "PATCH /api/v1/orgs/organizations/{org}/projects/{project}/ (project settings: none to change)",
    "POST/PUT/DELETE .../projects/{project}/members/ (staff are managed by memportal's admins)",
    "POST /api/v1/orgs/organizations/{org}/projects/ (a key belongs to one tenant)",
]
WEBHOOK_EVENTS = ["memory_add", "memory_update", "memory_delete", "memory_categorize", "erasure_person",
                  "erasure_session", "erasure_agent", "erasure_tenant"]
WEBHOOK_IN = {"type": "object", "required": ["name", "url", "event_types"], "additionalProperties": False,
              "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100},
                             "url": {"type": "string", "format": "uri", "maxLength": 2000},
                             "event_types": {"type": "array", "minItems": 1, "items": {"enum": WEBHOOK_EVENTS}}}}
WEBHOOK = {"type": "object", "properties": {
    "webhook_id": {"type": "integer"}, "name": {"type": "string"}, "url": {"type": "string"},
    "event_types": {"type": "array", "items": {"enum": WEBHOOK_EVENTS}}, "project": {"type": "string"},
    "is_active": {"type": "boolean"}, "created_at": {"type": "string"}, "updated_at": {"type": "string"},
    "secret": {"type": "string", "description": "Only in the answer to create_webhook"}}}
ENTITY_KIND = {"name": "kind", "in": "path", "required": True, "schema": {"enum": ["user", "agent", "run", "app"]}}
ENTITY_NAME = {"name": "name", "in": "path", "required": True, "schema": ID}
BATCH = {"type": "object", "required": ["memories"], "additionalProperties": False, "properties": {
    "memories": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {
        "type": "object", "required": ["memory_id"], "additionalProperties": False,
        "properties": {"memory_id": {"type": "string", "format": "uuid"},
                       "text": {"type": "string", "minLength": 1, "maxLength": 2000}}}}}}


DELETE_JOB = {"type": "object", "properties": {
    "job_id": {"type": "string"}, "status": {"enum": ["queued", "running", "done", "failed"]},
    "people_total": {"type": ["integer", "null"]}, "people_done": {"type": "integer"},
    "deleted": {"type": "integer"}, "receipts": {"type": "integer"}}}


def _delete_all_op() -> dict[str, Any]:
    op = _op("Delete all of a person's (optionally one agent's / run's) memories. Without user_id (agent_id "
             "and/or run_id): 202, a queued job erasing every person in that scope, each with a receipt "
             "(follow it at /v1/memories/jobs/{job_id}/); app_id alone = offboard the tenant (a superuser's "
             "tenant_admin key and confirm_app_id, 202)",
             MESSAGE_OUT, params=[_q(k, ID) for k in ("user_id", "agent_id", "run_id", "app_id", "confirm_app_id")])
    op["responses"]["202"] = {"description": "Queued", **_json({
        "type": "object", "properties": {"job_id": {"type": "string"}, "status_url": {"type": "string"}}})}
    return op


def openapi_document() -> dict[str, Any]:
    scope_props = {"user_id": ID, "agent_id": ID, "run_id": ID, "app_id": ID}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "memportal memory API (mem0 platform compatible)",
            "version": "1.0.0",
            "description": "The subset of the mem0 platform API that mem0ai 2.2.1's MemoryClient uses, scoped to "
                           "the tenant of the API key. See docs/api.md.",
            "x-unimplemented": UNIMPLEMENTED,
        },
        "servers": [{"url": "/"}],
        "security": [{"Token": []}],
        "components": {
            "securitySchemes": {"Token": {"type": "apiKey", "in": "header", "name": "Authorization",
                                          "description": "Authorization: Token mpk_..."}},
            "schemas": {"Filters": FILTER, "Memory": MEMORY, "Error": ERROR},
        },
        "paths": {
            "/v1/ping/": {"get": _op("Validate the key; returns the tenant as org/project", {"type": "object"})},
            "/v3/memories/add/": {"post": _op("Add memories for a person (user_id required)", RESULTS, body={
                "type": "object", "required": ["messages"], "additionalProperties": False,
                "properties": {"messages": MESSAGES, "metadata": {"type": "object", "maxProperties": 20},
                               "filters": {"type": "object", "properties": scope_props, "additionalProperties": False},
                               **scope_props, "infer": {"type": "boolean"}}})},
            "/v3/memories/": {"post": _op("Get all (paged, filters required)", LIST, body={
                "type": "object", "required": ["filters"], "additionalProperties": False,
                "properties": {"filters": {"$ref": "#/components/schemas/Filters"}}},
                params=[_q("page", {"type": "integer", "minimum": 1, "maximum": 1000000}),
                        _q("page_size", {"type": "integer", "minimum": 1, "maximum": 1000})])},
            "/v3/memories/search/": {"post": _op("Semantic search (filters required)", RESULTS, body={
                "type": "object", "required": ["query", "filters"], "additionalProperties": False,
                "properties": {"query": {"type": "string", "minLength": 1, "maxLength": 2000},
                               "filters": {"$ref": "#/components/schemas/Filters"},
                               "top_k": {"type": "integer", "minimum": 1, "maximum": 1000},
                               "threshold": {"type": "number"}}})},
            "/v1/memories/": {"delete": _delete_all_op()},
            "/v1/memories/jobs/{job_id}/": {
                "parameters": [{"name": "job_id", "in": "path", "required": True,
                                "schema": {"type": "string", "format": "uuid"}}],
                "get": _op("Progress of a tenant-wide delete: people done/total, memories erased, verification",
                           DELETE_JOB)},
            "/v1/memories/{memory_id}/": {
                "parameters": [MEMORY_ID],
                "get": _op("Get one memory", MEMORY),
                "put": _op("Correct a memory's text", MEMORY, body={
                    "type": "object", "required": ["text"], "additionalProperties": False,
                    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 2000}}}),
                "delete": _op("Erase one memory", MESSAGE_OUT),
            },
            "/v1/memories/{memory_id}/history/": {"parameters": [MEMORY_ID], "get": _op(
                "History of one memory", {"type": "array", "items": {"type": "object"}})},
            "/v1/exports/": {"post": _op("Request an export (computed when fetched)", {"type": "object"}, body={
                "type": "object", "additionalProperties": False,
                "properties": {"schema": {"type": "object"}, "filters": {"$ref": "#/components/schemas/Filters"},
                               **scope_props}}, status="201")},
            "/v1/exports/get/": {"post": _op("Download an export (streamed JSON)", {"type": "object"}, body={
                "type": "object", "additionalProperties": False,
                "properties": {"memory_export_id": {"type": "string", "format": "uuid"},
                               "filters": {"$ref": "#/components/schemas/Filters"}, **scope_props}})},
            "/v1/entities/": {"get": _op(
                "users(): the tenant (type app, first), its named people, agents and runs with counts",
                {"type": "object"}, params=[_q("page", {"type": "integer", "minimum": 1, "maximum": 1000000}),
                                            _q("page_size", {"type": "integer", "minimum": 1, "maximum": 1000})])},
            "/v2/entities/{kind}/{name}/": {"parameters": [ENTITY_KIND, ENTITY_NAME], "delete": _op(
                "delete_users(): erase one person's / agent's / run's memories (receipts); the app itself "
                "only with a superuser's tenant-admin key and confirm_app_id", MESSAGE_OUT,
                params=[_q("confirm_app_id", ID)])},
            "/v1/batch/": {
                "put": _op("batch_update: up to 1,000 corrections, all or nothing", MESSAGE_OUT, body=BATCH),
                "delete": _op("batch_delete: up to 1,000 erasures, all or nothing", MESSAGE_OUT, body=BATCH),
            },
            "/v1/feedback/": {"post": _op("Feedback on a memory, shown to the person", {"type": "object"}, body={
                "type": "object", "required": ["memory_id"], "additionalProperties": False,
                "properties": {"memory_id": {"type": "string", "format": "uuid"},
                               "feedback": {"enum": ["POSITIVE", "NEGATIVE", "VERY_NEGATIVE", None]},
                               "feedback_reason": {"type": ["string", "null"], "maxLength": 2000}}})},
            "/v1/events/": {"get": _op("Event feed: adds, updates, deletes, erasures (no text)", {"type": "object"},
                                       params=[_q("page", {"type": "integer", "minimum": 1, "maximum": 1000000}),
                                               _q("page_size", {"type": "integer", "minimum": 1, "maximum": 1000})])},
            "/v1/event/{event_id}/": {"parameters": [{"name": "event_id", "in": "path", "required": True,
                                                      "schema": {"type": "string", "maxLength": 64}}],
                                      "get": _op("One event", {"type": "object"})},
            "/api/v1/webhooks/projects/{project_id}/": {
                "parameters": [{"name": "project_id", "in": "path", "required": True, "schema": ID}],
                "get": _op("get_webhooks: the tenant's webhooks (project_id = the tenant's app_id)",
                           {"type": "array", "items": WEBHOOK}),
                "post": _op("create_webhook: a signed webhook (a key with read and write); the answer holds its "
                            "signing secret, shown once", WEBHOOK, body=WEBHOOK_IN, status="201"),
            },
            "/api/v1/webhooks/{webhook_id}/": {
                "parameters": [{"name": "webhook_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1}}],
                "get": _op("One webhook", WEBHOOK),
                "put": _op("update_webhook: change name, url or event_types (a key with read and write)", WEBHOOK,
                           body={**WEBHOOK_IN, "required": []}),
                "delete": _op("delete_webhook: nothing more is sent to it, queued deliveries included", MESSAGE_OUT),
            },
            "/api/v1/portal-sessions": {"post": _op(
                "One-time link signing the person into their 'your data' page",
                {"type": "object", "properties": {"url": {"type": "string"}, "expires_at": {"type": "string"}}},
                body={"type": "object", "required": ["user_id"], "additionalProperties": False,
                      "properties": {"user_id": ID}}, status="201")},
        },
    }


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document())
