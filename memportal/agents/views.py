"""Pages: app-key management (tenant staff), portal-link entry, and the assistant."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from memportal.memory import selectors, services
from memportal.memory.errors import InvalidInput, MembershipEnded, MemoryPaused
from memportal.memory.models import Membership, Tenant
from memportal.memory.tenancy import access_membership_for_user
from memportal.memory.validation import clean_id

from . import llm
from .forms import AGENTS, AppKeyForm, TurnForm
from .models import AppKey
from .selectors import appkeys_for_tenant, staff_tenants_for_user
from .services import appkey_create, appkey_revoke, portal_token_redeem

TENANT_SESSION_KEY = "you_tenant"  # the "your data" pages' tenant switcher (memportal.you.selectors)
AGENT_IDS = {a for a, _ in AGENTS}


# --- app keys (tenant staff) -------------------------------------------------------------------
def _staff_tenant(request: HttpRequest, slug: str | None) -> tuple[Tenant, list[Tenant]]:
    tenants = staff_tenants_for_user(user=request.user)
    if not tenants:
        raise Http404("No tenant you manage.")
    for tenant in tenants:
        if tenant.slug == slug:
            return tenant, tenants
    return tenants[0], tenants


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def appkey_list(request: HttpRequest) -> HttpResponse:
    tenant, tenants = _staff_tenant(request, request.GET.get("tenant") or request.POST.get("tenant"))
    form = AppKeyForm(request.POST or None)
    raw_key = None
    if request.method == "POST" and form.is_valid():
        expires = form.cleaned_data["expires_at"]  # aware (USE_TZ), in UTC
        _, raw_key = appkey_create(
            tenant=tenant, name=form.cleaned_data["name"], permissions=form.permissions(),
            created_by=request.user, expires_at=expires,
        )
        form = AppKeyForm()
    return render(request, "agents/keys.html", {
        "tenant": tenant, "tenants": tenants, "keys": appkeys_for_tenant(tenant=tenant), "form": form,
        "raw_key": raw_key, "api_host": request.build_absolute_uri("/").rstrip("/"),
    })


@login_required
@require_POST
def appkey_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    tenants = staff_tenants_for_user(user=request.user)
    key = get_object_or_404(AppKey, pk=pk, tenant__in=tenants)  # another tenant's key: 404 like a missing one
    appkey_revoke(key=key)
    messages.success(request, f"Key “{key.name}” revoked: it stops working immediately.")
    return redirect(f"{reverse('agents:keys')}?{urlencode({'tenant': key.tenant.slug})}")


# --- portal links ------------------------------------------------------------------------------
@never_cache
@require_GET
def portal_enter(request: HttpRequest, token: str) -> HttpResponse:
    """Spend a one-time link from an app: sign in exactly its person, then show their data."""
    user = portal_token_redeem(raw=token)
    if user is None:
        response = render(request, "agents/portal_invalid.html", status=410)
    else:
        member = Membership.objects.select_related("tenant").filter(user=user, ended_at__isnull=True).first()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if member is not None:
            request.session[TENANT_SESSION_KEY] = member.tenant.slug
        response = redirect("you:list")
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to the next page
    return response


# --- assistant ---------------------------------------------------------------------------------
def _member(request: HttpRequest) -> Membership:
    return access_membership_for_user(user=request.user, tenant_slug=request.session.get(TENANT_SESSION_KEY))


def _new_run_id() -> str:
    return f"chat-{timezone.now():%Y-%m-%d}-{secrets.token_hex(3)}"


@login_required
@require_GET
def assistant(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    agent = request.GET.get("agent") if request.GET.get("agent") in AGENT_IDS else AGENTS[0][0]
    try:
        run_id = clean_id(request.GET["run"], field="run") if request.GET.get("run") else None
    except InvalidInput:
        run_id = None
    if run_id is None:
        return redirect(f"{reverse('agents:assistant')}?{urlencode({'agent': agent, 'run': _new_run_id()})}")
    sessions = selectors.memory_scope_counts(member=member, key="run_id", agent_id=agent)
    history = selectors.memory_list(member=member, agent_id=agent, run_id=run_id, page_size=50).items
    return render(request, "agents/assistant.html", {
        "agents": AGENTS, "agent": agent, "run_id": run_id, "sessions": sessions,
        "history": list(reversed(history)), "form": TurnForm(initial={"agent": agent, "run_id": run_id}),
        "offline": not llm.llm_enabled(), "paused": member.memory_paused,
    })


def _offline_reply(recalled: list[Any]) -> str:
    if not recalled:
        return "(Offline: no language model is configured.) Nothing relevant recalled yet; your message was stored."
    return "(Offline: no language model is configured.) Here is what I recalled for this message; see the list."


@login_required
@require_POST
def assistant_turn(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = TurnForm(request.POST)
    if not form.is_valid():
        return render(request, "agents/_turn.html", {"errors": form.errors}, status=400)
    agent, run_id, message = (form.cleaned_data[k] for k in ("agent", "run_id", "message"))
    context: dict[str, Any] = {"message": message, "offline": not llm.llm_enabled()}
    try:
        # Search before storing, so a turn never "recalls" itself.
        recalled = selectors.memory_search(member=member, query=message, agent_id=agent, limit=5)
    except InvalidInput as exc:
        return render(request, "agents/_turn.html", {"errors": {exc.field: [exc.message]}}, status=400)
    recalled = [r for r in recalled if r.score is None or r.score >= 0.1]
    context["recalled"] = recalled
    exchange = [{"role": "user", "content": message}]
    if llm.llm_enabled():
        try:
            reply = llm.chat_reply(agent_id=agent, message=message, recalled=recalled)
            exchange.append({"role": "assistant", "content": reply[:2000]})
            context["reply"] = reply
        except llm.LLMUnavailable:
            context["llm_failed"] = True
            context["reply"] = _offline_reply(recalled)
    else:
        # Offline the canned reply is not stored: it would only echo memories back as new ones.
        context["reply"] = _offline_reply(recalled)
    try:
        context["stored"] = services.memory_add(member=member, messages=exchange, agent_id=agent, run_id=run_id)
    except MemoryPaused:
        context["paused"] = True
    except (MembershipEnded, InvalidInput):
        context["not_stored"] = True
    if not request.htmx:
        return redirect(f"{reverse('agents:assistant')}?{urlencode({'agent': agent, 'run': run_id})}")
    return render(request, "agents/_turn.html", context)
