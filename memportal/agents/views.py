"""Pages: app-key management (tenant staff), portal-link entry, and the assistant."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from memportal import access
from memportal.memory import selectors, services
from memportal.memory.errors import InvalidInput, MembershipEnded, MemoryPaused, ReadsStopped
from memportal.memory.models import Membership, Tenant
from memportal.memory.validation import clean_id
from memportal.you.selectors import member_for_request

from . import llm
from .forms import AGENTS, AppKeyForm, TurnForm
from .selectors import appkeys_for_tenant
from .services import appkey_create, appkey_revoke, portal_token_redeem

TENANT_SESSION_KEY = "you_tenant"  # the "your data" pages' tenant switcher (memportal.you.selectors)
AGENT_IDS = {a for a, _ in AGENTS}


# --- app keys (tenant staff) -------------------------------------------------------------------
def _staff_tenant(request: HttpRequest, slug: str | None) -> tuple[Tenant, list[Tenant]]:
    """The tenant the keys page shows: the one asked for (if the user manages it), else their first."""
    access.access_staff_area(user=request.user)
    tenants = list(access.staff_tenants(user=request.user))
    if slug:
        return access.access_tenant_for_staff(user=request.user, slug=slug), tenants
    return tenants[0], tenants


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def appkey_list(request: HttpRequest) -> HttpResponse:
    tenant, tenants = _staff_tenant(request, request.GET.get("tenant") or request.POST.get("tenant"))
    form = AppKeyForm(request.POST or None, may_grant_admin=request.user.is_superuser)
    raw_key = None
    if request.method == "POST" and form.is_valid():
        expires = form.cleaned_data["expires_at"]  # aware (USE_TZ), in UTC
        try:
            _, raw_key = appkey_create(
                tenant=tenant, name=form.cleaned_data["name"], permissions=form.permissions(),
                created_by=request.user, expires_at=expires,
            )
        except access.Forbidden as exc:
            form.add_error("can_admin", str(exc))
        else:
            form = AppKeyForm(may_grant_admin=request.user.is_superuser)
    return render(request, "agents/keys.html", {
        "tenant": tenant, "tenants": tenants, "keys": appkeys_for_tenant(tenant=tenant), "form": form,
        "raw_key": raw_key, "api_host": request.build_absolute_uri("/").rstrip("/"),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def appkey_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    key = access.access_app_key(user=request.user, key_id=pk, write=True)
    appkey_revoke(key=key)
    messages.success(request, f"Key “{key.name}” revoked: it stops working immediately, and so do its portal links.")
    return redirect(f"{reverse('agents:keys')}?{urlencode({'tenant': key.tenant.slug})}")


# --- portal links ------------------------------------------------------------------------------
def _no_referrer(response: HttpResponse) -> HttpResponse:
    # The token must never leave the site in a Referer. "same-origin", not "no-referrer": with
    # no-referrer Chromium sends "Origin: null" on the Continue POST and CSRF refuses it.
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def portal_enter(request: HttpRequest, token: str) -> HttpResponse:
    """A one-time link from an app. GET only shows where it leads (which app, which person) and a
    Continue button; nothing signs anyone in or out without that POST (CSRF-protected). When
    someone else is signed in, the page says so and offers to sign out first: a link can never
    silently switch a browser into another person's account (login CSRF)."""
    try:
        link = access.access_portal_link(raw=token)
    except access.NotFound:
        return _no_referrer(render(request, "agents/portal_invalid.html", status=410))
    member = link.membership
    signed_in = request.user if request.user.is_authenticated else None
    already_them = signed_in is not None and member.user_id == signed_in.pk
    if request.method == "GET":
        return _no_referrer(render(request, "agents/portal_confirm.html", {
            "app_name": member.tenant.name, "person": member.external_id, "signed_in": signed_in,
            "already_them": already_them, "token": token,
        }))
    if signed_in is not None and not already_them:
        if request.POST.get("sign_out") != "1":
            return _no_referrer(redirect("agents:portal_enter", token=token))
        logout(request)
    user = portal_token_redeem(raw=token)
    if user is None:
        return _no_referrer(render(request, "agents/portal_invalid.html", status=410))
    if not already_them:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[TENANT_SESSION_KEY] = member.tenant.slug
    return _no_referrer(redirect("you:list"))


# --- assistant ---------------------------------------------------------------------------------
def _member(request: HttpRequest) -> Membership | None:
    return member_for_request(request)


def _new_run_id() -> str:
    return f"chat-{timezone.now():%Y-%m-%d}-{secrets.token_hex(3)}"


@login_required
@require_GET
def assistant(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if member is None:
        return redirect("you:welcome")
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
        "offline": not llm.llm_enabled(), "paused": member.memory_paused, "reads_stopped": member.reads_stopped,
    })


def _offline_reply(recalled: list[Any]) -> str:
    if not recalled:
        return "(Offline: no language model is configured.) Nothing relevant recalled yet; your message was stored."
    return "(Offline: no language model is configured.) Here is what I recalled for this message; see the list."


@login_required
@require_POST
def assistant_turn(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if member is None:
        return redirect("you:welcome")
    form = TurnForm(request.POST)
    if not form.is_valid():
        return render(request, "agents/_turn.html", {"errors": form.errors}, status=400)
    agent, run_id, message = (form.cleaned_data[k] for k in ("agent", "run_id", "message"))
    context: dict[str, Any] = {"message": message, "offline": not llm.llm_enabled()}
    try:
        # Search before storing, so a turn never "recalls" itself; nothing when the person stopped
        # this app reading their memories (the same rule as the API's, access.member_intent_check).
        access.member_intent_check(member=member, intent=access.READ)
        recalled = selectors.memory_search(member=member, query=message, agent_id=agent, limit=5)
    except ReadsStopped:
        recalled, context["reads_stopped"] = [], True
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
