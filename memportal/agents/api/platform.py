"""The rest of the mem0 platform API an app server uses: entities, batches, feedback, summary,
the event feed, the project (the tenant seen as a platform project), signed webhooks, and honest
refusals for what memportal does not do (profiles, project settings).

Same rules as views.py: the key decides the tenant, every id is owner-checked through
memportal.access, every read of memories is recorded as a look, errors are JSON.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse

from memportal import access
from memportal.agents import webhooks as webhook_services
from memportal.agents.models import AppKey
from memportal.memory import api_selectors, selectors, services
from memportal.memory.errors import InvalidInput
from memportal.memory.models import ErasureReceipt, Membership, MemoryEvent, MemoryFeedback
from memportal.memory.records import TABLE
from memportal.memory.validation import clean_id, clean_page, clean_text

from .base import NOT_FOUND, ApiError, api_view, json_body, query_params, require

MAX_BATCH = 1000
PROJECT_QUERY = frozenset({"org_id", "project_id", "fields"})


def _not_available(feature: str, why: str) -> JsonResponse:
    return JsonResponse({"error": f"{feature} is not available in memportal: {why}",
                         "detail": f"{feature} is not available in memportal: {why}", "feature": feature}, status=501)


# --- entities ---------------------------------------------------------------------------------------
@api_view(("GET",))
def entities(request: HttpRequest) -> JsonResponse:
    """``users()``: the tenant itself (type "app", listed first), then the people the app has named,
    its agents and its runs, each with its number of memories. Labels and counts only, no text.

    The tenant comes first on purpose: the platform client's ``delete_users()`` and ``reset()``
    with no argument delete every listed entity in order, and deleting the "app" entity needs a
    superuser's tenant-admin key *and* ``confirm_app_id``; so those calls stop at the first
    request with nothing deleted, instead of wiping the tenant one person at a time.
    """
    key = require(request, "read")
    params = query_params(request, allowed=frozenset({"org_id", "project_id", "page", "page_size"}))
    page, size = clean_page(params.get("page", 1), params.get("page_size", 100))
    tenant = key.tenant
    members = Membership._meta.db_table
    readable = access.key_read_member_condition()  # counts of people who stopped the app reading: left out
    with connection.cursor() as cur:
        cur.execute(
            "WITH named AS (SELECT m.subject_id, m.external_id FROM " + members + " m WHERE m.tenant_id = %s "
            "AND m.external_id IS NOT NULL AND m.ended_at IS NULL AND m." + readable + "), "
            "mem AS (SELECT payload->>'user_id' AS s, payload->>'agent_id' AS a, payload->>'run_id' AS r, "
            "payload->>'created_at' AS c FROM " + TABLE + " WHERE payload->>'app_id' = %s "
            "AND payload->>'user_id' IN (SELECT subject_id FROM named)) "
            "SELECT 'user', n.external_id, count(*), min(c), max(c) FROM mem JOIN named n ON n.subject_id = mem.s "
            "GROUP BY n.external_id "
            "UNION ALL SELECT 'agent', a, count(*), min(c), max(c) FROM mem WHERE a IS NOT NULL GROUP BY a "
            "UNION ALL SELECT 'run', r, count(*), min(c), max(c) FROM mem WHERE r IS NOT NULL GROUP BY r "
            "ORDER BY 1 DESC, 2 LIMIT %s OFFSET %s",
            [tenant.pk, tenant.slug, size, (page - 1) * size],
        )
        rows = cur.fetchall()
        cur.execute(
            f"SELECT count(*) FROM {TABLE} WHERE payload->>'app_id' = %s AND payload->>'user_id' IN "
            f"(SELECT subject_id FROM {members} WHERE tenant_id = %s AND external_id IS NOT NULL AND ended_at IS NULL "
            f"AND {readable})",
            [tenant.slug, tenant.pk],
        )
        total = cur.fetchone()[0]
    results: list[dict[str, Any]] = []
    if page == 1:
        results.append({"id": tenant.slug, "name": tenant.slug, "type": "app", "total_memories": total,
                        "created_at": tenant.created_at.isoformat(), "updated_at": None, "owner": None,
                        "metadata": None})
    results += [
        {"id": name, "name": name, "type": kind, "total_memories": n, "created_at": first, "updated_at": last,
         "owner": None, "metadata": None}
        for kind, name, n, first, last in rows
    ]
    return JsonResponse({"count": len(results), "results": results})


@api_view(("DELETE",))
def entity_delete(request: HttpRequest, kind: str, name: str) -> JsonResponse:
    """``delete_users(user_id=…|agent_id=…|run_id=…|app_id=…)``: erase that entity's memories.

    A person: every memory of theirs in the tenant, with an erasure receipt (the membership stays:
    the app may remember them again). An agent or run: every named person's memories with it.
    The app (the whole tenant): offboarding, only with a superuser's tenant-admin key and
    ``confirm_app_id`` (as ``DELETE /v1/memories/?app_id=``).
    """
    key = request.app_key
    params = query_params(request, allowed=frozenset({"org_id", "project_id", "confirm_app_id"}))
    if kind == "app":
        if name != key.tenant.slug:
            raise ApiError(404, NOT_FOUND, "app_id")
        from .views import offboard_start

        return offboard_start(request, params.get("confirm_app_id"))
    require(request, "write")
    if kind == "user":
        member = access.access_member_for_key(key=key, external_id=name, create=False)
        if member is None:
            raise ApiError(404, NOT_FOUND, "user_id")
        receipt = services.memory_delete_all(member=member, via="api")
        return JsonResponse({"message": "Entity deleted successfully.", "deleted": receipt.memories_erased,
                             "receipt_id": str(receipt.pk)})
    if kind not in {"agent", "run"}:
        raise ApiError(404, f"No such entity type: {kind}.", "type")
    from .views import tenant_delete_queue

    scope = {"agent_id": clean_id(name, field="agent_id")} if kind == "agent" else {
        "run_id": clean_id(name, field="run_id")}
    return tenant_delete_queue(key, **scope)


# --- batches ----------------------------------------------------------------------------------------
def _batch_items(request: HttpRequest, fields: frozenset[str]) -> list[dict[str, Any]]:
    data = json_body(request, allowed=frozenset({"memories"}))
    items = data.get("memories")
    if not isinstance(items, list) or not items:
        raise InvalidInput("memories", "must be a non-empty list of objects")
    if len(items) > MAX_BATCH:
        raise InvalidInput("memories", f"at most {MAX_BATCH} per batch")
    for n, item in enumerate(items):
        if not isinstance(item, dict) or "memory_id" not in item or set(item) - fields:
            raise InvalidInput(f"memories[{n}]", f"must be an object with memory_id and only {sorted(fields)}")
    ids = [str(i["memory_id"]) for i in items]
    if len(set(ids)) != len(ids):
        raise InvalidInput("memories", "a memory_id appears more than once")
    return items


@api_view(("PUT", "DELETE"))
def batch(request: HttpRequest) -> JsonResponse:
    """``batch_update`` / ``batch_delete``: up to 1,000 memories, all or nothing. Every id is
    owner-checked; one foreign or missing id fails the whole batch (404) and changes nothing."""
    key = require(request, "write")
    query_params(request, allowed=frozenset({"org_id", "project_id"}))
    updating = request.method == "PUT"
    items = _batch_items(request, frozenset({"memory_id", "text", "metadata"}) if updating
                         else frozenset({"memory_id"}))
    if updating:
        for n, item in enumerate(items):
            if item.get("metadata") is not None:
                raise ApiError(400, "Updating metadata is not supported; send text.", f"memories[{n}].metadata")
            clean_text(item.get("text"))
    with transaction.atomic():
        for item in items:
            member = access.access_memory_for_key(
                key=key, memory_id=item["memory_id"], intent=access.WRITE if updating else None
            )
            if updating:
                services.memory_update(member=member, memory_id=item["memory_id"], text=item["text"])
            else:
                services.memory_delete(member=member, memory_id=item["memory_id"], via="api")
    verb = "updated" if updating else "deleted"
    return JsonResponse({"message": f"Successfully {verb} {len(items)} memories", "count": len(items)})


# --- feedback ---------------------------------------------------------------------------------------
@api_view(("POST",))
def feedback(request: HttpRequest) -> JsonResponse:
    """``feedback(memory_id, feedback, feedback_reason)``: stored and shown to the person beside the
    memory; erased with it (erasure.Feedback)."""
    key = require(request, "write")
    data = json_body(request, allowed=frozenset({"memory_id", "feedback", "feedback_reason"}))
    rating = data.get("feedback")
    if rating is not None and rating not in MemoryFeedback.Rating.values:
        raise InvalidInput("feedback", f"must be one of {', '.join(MemoryFeedback.Rating.values)} or null")
    reason = data.get("feedback_reason") or ""
    if reason:
        reason = clean_text(reason)
    member = access.access_memory_for_key(key=key, memory_id=data.get("memory_id"), intent=access.WRITE)
    record = selectors.memory_get(member=member, memory_id=data["memory_id"])
    item = MemoryFeedback.objects.create(
        tenant=key.tenant, memory_id=record.id, subject_id=member.subject_id, agent_id=record.agent_id,
        run_id=record.run_id, rating=rating, reason=reason, key_prefix=key.prefix,
    )
    return JsonResponse({"id": item.pk, "memory_id": record.id, "feedback": rating, "feedback_reason": reason or None,
                         "message": "Feedback recorded."})


# --- summary and profiles ---------------------------------------------------------------------------
@api_view(("POST",))
def summary(request: HttpRequest) -> JsonResponse:
    require(request, "read")
    json_body(request, allowed=frozenset({"filters", "org_id", "project_id"}))
    from memportal.agents import llm

    if not llm.llm_enabled():
        return _not_available("Summaries", "they need a language model and none is configured (MEMPORTAL_LLM).")
    return _not_available("Summaries", "summaries with a language model are not implemented yet.")


@api_view(("GET", "POST", "PUT", "PATCH", "DELETE"))
def profiles(request: HttpRequest, **_: Any) -> JsonResponse:
    require(request, "read")
    return _not_available("Memory profiles", "memportal keeps memories, not generated profiles.")


# --- webhooks ---------------------------------------------------------------------------------------
WEBHOOK_FIELDS = frozenset({"name", "url", "event_types"})


@api_view(("GET", "POST"))
def webhooks(request: HttpRequest, project_id: str) -> JsonResponse:
    """``get_webhooks(project_id)`` (a list) and ``create_webhook(url, name, project_id, event_types)``
    (the webhook, with its signing ``secret``: shown this once). The project is the key's tenant.
    Listing needs read; creating a key that may read and write (403 before anything else)."""
    key = require(request, "webhooks" if request.method == "POST" else "read")
    query_params(request, allowed=PROJECT_QUERY)
    if request.method == "POST":
        access.access_webhooks_project_for_key(key=key, project_id=project_id)
        data = json_body(request, allowed=WEBHOOK_FIELDS)
        webhook, secret = webhook_services.webhook_create(
            key=key, name=data.get("name"), url=data.get("url"), event_types=data.get("event_types"))
        return JsonResponse(webhook_services.webhook_as_dict(webhook, secret=secret), status=201)
    tenant = access.access_webhooks_project_for_key(key=key, project_id=project_id)
    hooks = tenant.webhooks.filter(deleted_at__isnull=True).select_related("tenant")
    return JsonResponse([webhook_services.webhook_as_dict(h) for h in hooks], safe=False)


@api_view(("GET", "PUT", "DELETE"))
def webhook_detail(request: HttpRequest, webhook_id: str) -> JsonResponse:
    """``update_webhook(webhook_id, name, url, event_types)`` and ``delete_webhook(webhook_id)``
    (and a GET). Another tenant's id is a 404 like a missing one; a read-only or write-only key
    is a 403 for update and delete, whatever the id."""
    key = require(request, "read") if request.method == "GET" else request.app_key
    query_params(request, allowed=PROJECT_QUERY)
    webhook = access.access_webhook_for_key(key=key, webhook_id=webhook_id, manage=request.method != "GET")
    if request.method == "GET":
        return JsonResponse(webhook_services.webhook_as_dict(webhook))
    if request.method == "DELETE":
        webhook_services.webhook_delete(webhook=webhook)
        return JsonResponse({"message": "Webhook deleted successfully.", "webhook_id": webhook.pk})
    data = json_body(request, allowed=WEBHOOK_FIELDS)
    webhook = webhook_services.webhook_update(webhook=webhook, name=data.get("name"), url=data.get("url"),
                                              event_types=data.get("event_types"))
    return JsonResponse({"message": "Webhook updated successfully.", **webhook_services.webhook_as_dict(webhook)})


# --- the event feed ---------------------------------------------------------------------------------
def _event_of_history(row: MemoryEvent, names: dict[str, str]) -> dict[str, Any]:
    return {"id": f"h{row.pk}", "event_type": row.event, "status": "SUCCEEDED", "memory_id": str(row.memory_id),
            "user_id": names.get(row.subject_id or ""), "agent_id": row.agent_id, "run_id": row.run_id,
            "created_at": row.recorded_at.isoformat()}


def _event_of_receipt(receipt: ErasureReceipt, names: dict[str, str]) -> dict[str, Any]:
    status = "SUCCEEDED" if receipt.verified else "PENDING" if receipt.verified_at is None else "FAILED"
    subject = receipt.membership.subject_id if receipt.membership_id else ""
    return {"id": str(receipt.pk), "event_type": f"ERASURE_{receipt.kind.upper()}", "status": status,
            "memory_id": str(receipt.memory_id) if receipt.memory_id else None, "user_id": names.get(subject),
            "agent_id": receipt.agent_id or None, "run_id": receipt.run_id or None,
            "memories_erased": receipt.memories_erased, "remaining_after": receipt.remaining_after,
            "created_at": receipt.finished_at.isoformat()}


def _names(key: AppKey, subjects: set[str]) -> dict[str, str]:
    return api_selectors.external_ids_for_subjects(tenant=key.tenant, subject_ids=list(subjects))


@api_view(("GET",))
def events(request: HttpRequest) -> JsonResponse:
    """Adds, updates and deletes (memory history) and erasures (receipts) in the tenant, newest
    first, paged. No memory text: ids, kinds, status, times."""
    key = require(request, "read")
    params = query_params(request, allowed=frozenset({"org_id", "project_id", "page", "page_size"}))
    page, size = clean_page(params.get("page", 1), params.get("page_size", 50))
    window = page * size
    history = list(MemoryEvent.objects.filter(app_id=key.tenant.slug).order_by("-recorded_at", "-id")[:window])
    receipts = list(ErasureReceipt.objects.filter(tenant=key.tenant).select_related("membership")
                    .order_by("-finished_at")[:window])
    names = _names(key, {h.subject_id or "" for h in history} | {
        r.membership.subject_id for r in receipts if r.membership_id})
    merged = sorted([_event_of_history(h, names) for h in history] + [_event_of_receipt(r, names) for r in receipts],
                    key=lambda e: e["created_at"], reverse=True)
    total = MemoryEvent.objects.filter(app_id=key.tenant.slug).count() + ErasureReceipt.objects.filter(
        tenant=key.tenant).count()
    return JsonResponse({"count": total, "page": page, "page_size": size,
                         "results": merged[(page - 1) * size: window]})


@api_view(("GET",))
def event_detail(request: HttpRequest, event_id: str) -> JsonResponse:
    key = require(request, "read")
    if event_id.startswith("h") and event_id[1:].isdigit():
        row = MemoryEvent.objects.filter(pk=int(event_id[1:]), app_id=key.tenant.slug).first()
        if row is not None:
            return JsonResponse(_event_of_history(row, _names(key, {row.subject_id or ""})))
    else:
        try:
            receipt = access.access_receipt_for_key(key=key, receipt_id=event_id)
        except access.NotFound:
            receipt = None
        if receipt is not None:
            subject = receipt.membership.subject_id if receipt.membership_id else ""
            return JsonResponse(_event_of_receipt(receipt, _names(key, {subject})))
    raise ApiError(404, NOT_FOUND, "event_id")


# --- the project (the tenant) -----------------------------------------------------------------------
def _project(key: AppKey, org_id: str, project_id: str) -> dict[str, Any]:
    tenant = key.tenant
    if org_id != f"org_{tenant.slug}" or project_id != tenant.slug:
        raise ApiError(404, NOT_FOUND, "project_id")
    return {"id": tenant.slug, "project_id": tenant.slug, "org_id": org_id, "name": tenant.name,
            "description": None, "created_at": tenant.created_at.isoformat(), "custom_instructions": None,
            "custom_categories": None, "memory_depth": None, "usecase_setting": None, "multilingual": None,
            "agent_custom_instructions": None}


@api_view(("GET", "PATCH", "DELETE"))
def project(request: HttpRequest, org_id: str, project_id: str) -> JsonResponse:
    """``get_project`` / ``project.get``: the key's tenant as a platform project. Changing it is not
    offered: memportal has no extraction instructions or categories to set (501)."""
    key = require(request, "read")
    query_params(request, allowed=PROJECT_QUERY)
    data = _project(key, org_id, project_id)
    if request.method == "GET":
        return JsonResponse(data)
    if request.method == "DELETE":
        raise ApiError(403, "A project (tenant) is deleted by offboarding: DELETE /v1/memories/?app_id=… "
                            "with confirm_app_id, or the admin pages.")
    return _not_available("Project settings", "there are no instructions or categories to change here.")


@api_view(("GET", "POST", "PUT", "DELETE"))
def project_members(request: HttpRequest, org_id: str, project_id: str) -> JsonResponse:
    """The tenant's staff as the project's members (read only: staff are managed in memportal)."""
    key = require(request, "read")
    query_params(request, allowed=PROJECT_QUERY | {"email"})
    _project(key, org_id, project_id)
    if request.method != "GET":
        return _not_available("Managing project members", "tenant staff are managed by memportal's admins.")
    staff = Membership.objects.filter(tenant=key.tenant, role=Membership.Role.STAFF, ended_at__isnull=True,
                                      user__isnull=False).select_related("user")
    return JsonResponse({"members": [{"email": m.user.email, "role": "OWNER"} for m in staff]})


@api_view(("POST",))
def projects_create(request: HttpRequest, org_id: str) -> JsonResponse:
    require(request, "read")
    return _not_available("Creating projects", "a key belongs to one tenant; admins create tenants.")

