"""The "Your data" pages: a person sees, searches, corrects, downloads, pauses and erases
their own memories. Every view takes its scope from ``request.user`` (via
``selectors.member_for_request``); no URL or form field names a person or a tenant.
"""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from memportal.memory import selectors, services
from memportal.memory.errors import InvalidInput, MemoryNotFound
from memportal.memory.models import ErasureReceipt, Membership
from memportal.staff.selectors import access_records_for_member

from . import selectors as you_selectors
from . import services as you_services
from .forms import DELETE_ACCOUNT_PHRASE, ERASE_ALL_PHRASE, MemoryEditForm, PhraseForm

PAGE_SIZE = 25


def _filters(params: Any) -> tuple[str | None, str | None]:
    """agent/session filters from GET or POST; empty means "no filter" (never "*")."""
    return (params.get("agent") or "").strip() or None, (params.get("session") or "").strip() or None


def _memory_or_404(member: Membership, memory_id: str):
    try:
        return selectors.memory_get(member=member, memory_id=memory_id)
    except MemoryNotFound as exc:
        raise Http404("Memory not found.") from exc


def _receipt_url(receipt: ErasureReceipt) -> str:
    return reverse("you:receipt", args=[receipt.pk])


@login_required
@require_GET
def memory_list(request: HttpRequest) -> HttpResponse:
    member = you_selectors.member_for_request(request)
    agent, session = _filters(request.GET)
    # One scan gives the total, both filter dropdowns and this filter's count (was four queries).
    summary = selectors.memory_scope_summary(member=member)
    context: dict[str, Any] = {
        "member": member, "agent": agent, "session": session,
        "all_total": summary.total,
        "agents": summary.agents(),
        "memberships": you_selectors.member_choices(request=request),
    }
    try:
        # memory_list validates the filters (InvalidInput) before anything is looked up by them.
        context["page"] = selectors.memory_list(
            member=member, agent_id=agent, run_id=session,
            page=request.GET.get("page", 1), page_size=PAGE_SIZE,
            total=summary.count(agent_id=agent, run_id=session),
        )
        context["sessions"] = summary.sessions(agent_id=agent)
        context["rows"] = you_selectors.memory_rows(records=context["page"].items)
    except InvalidInput as exc:
        context["error"] = exc.message if exc.field != "page" else "That page number is not valid."
        return render(request, "you/list.html", context, status=400)
    base = {k: v for k, v in (("agent", agent), ("session", session)) if v}
    context["prev_query"] = urlencode({**base, "page": context["page"].page - 1})
    context["next_query"] = urlencode({**base, "page": context["page"].page + 1})
    return render(request, "you/list.html", context)


@login_required
@require_GET
def memory_search(request: HttpRequest) -> HttpResponse:
    member = you_selectors.member_for_request(request)
    agent, session = _filters(request.GET)
    query = (request.GET.get("q") or "").strip()
    context: dict[str, Any] = {
        "member": member, "q": query, "agent": agent, "session": session, "results": None,
        "agents": selectors.memory_scope_counts(member=member, key="agent_id"),
        "sessions": selectors.memory_scope_counts(member=member, key="run_id"),
    }
    status = 200
    if query:
        try:
            hits = selectors.memory_search(
                member=member, query=query, agent_id=agent, run_id=session, limit=10
            )
            context["results"] = [h for h in hits if (h.score or 0) >= you_selectors.SEARCH_MIN_SCORE]
        except InvalidInput as exc:
            context["error"], status = exc.message, 400
        # Links that broaden a search that found nothing, as mem0's troubleshooting guide advises.
        context["broaden"] = [
            (label, reverse("you:search") + "?" + urlencode({"q": query, **params}))
            for label, params, show in (
                ("Search all agents", {"session": session} if session else {}, agent),
                ("Search all sessions", {"agent": agent} if agent else {}, session),
                ("Search everything (no filters)", {}, agent and session),
            )
            if show
        ]
    partial = request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    template = "you/_search_results.html" if partial else "you/search.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])  # the same URL answers a fragment or a page
    return response


@login_required
@require_GET
def memory_detail(request: HttpRequest, memory_id: str) -> HttpResponse:
    member = you_selectors.member_for_request(request)
    memory = _memory_or_404(member, memory_id)
    history = selectors.memory_history(member=member, memory_id=memory.id)
    return render(request, "you/detail.html", {"memory": memory, "history": history})


@login_required
@require_http_methods(["GET", "POST"])
def memory_edit(request: HttpRequest, memory_id: str) -> HttpResponse:
    member = you_selectors.member_for_request(request)
    memory = _memory_or_404(member, memory_id)
    form = MemoryEditForm(request.POST or None, initial={"text": memory.text})
    if request.method == "POST" and form.is_valid():
        try:
            services.memory_update(member=member, memory_id=memory.id, text=form.cleaned_data["text"])
        except MemoryNotFound as exc:  # erased meanwhile
            raise Http404("Memory not found.") from exc
        except InvalidInput as exc:
            form.add_error("text", exc.message)
        else:
            messages.success(request, "Memory corrected. The old text is kept in its history below.")
            return redirect("you:detail", memory_id=memory.id)
    status = 400 if form.errors else 200
    return render(request, "you/edit.html", {"memory": memory, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def memory_delete(request: HttpRequest, memory_id: str) -> HttpResponse:
    """GET: a confirm page (works without JavaScript). POST: erase; htmx removes the row."""
    member = you_selectors.member_for_request(request)
    memory = _memory_or_404(member, memory_id)
    if request.method == "GET":
        return render(request, "you/delete_confirm.html", {"memory": memory})
    try:
        receipt = services.memory_delete(member=member, memory_id=memory.id, requested_by=request.user)
    except MemoryNotFound as exc:
        raise Http404("Memory not found.") from exc
    if request.htmx:
        return render(request, "you/_deleted.html", {
            "receipt": receipt, "all_total": selectors.memory_count(member=member),
        })
    return redirect(_receipt_url(receipt))


@login_required
@require_GET
def receipt_detail(request: HttpRequest, receipt_id: str) -> HttpResponse:
    member = you_selectors.member_for_request(request)
    receipt = you_selectors.receipt_for_member(member=member, receipt_id=receipt_id)
    if receipt is None:
        raise Http404("Receipt not found.")
    return render(request, "you/receipt.html", {"receipts": [receipt]})


def _erase_scope(request: HttpRequest, *, key: str) -> HttpResponse:
    """Erase one session (key="session") or everything one agent knows (key="agent")."""
    member = you_selectors.member_for_request(request)
    params = request.POST if request.method == "POST" else request.GET
    value = (params.get(key) or "").strip()
    scope = {"agent_id": value} if key == "agent" else {"run_id": value}
    # A session or agent the person has no memories with is "not found", whoever it belongs to.
    if not value or not you_selectors.scope_exists(member=member, **scope):
        raise Http404("Nothing to erase.")
    if request.method == "POST":
        receipt = services.memory_delete_all(member=member, requested_by=request.user, **scope)
        return redirect(_receipt_url(receipt))
    count = selectors.memory_list(member=member, page_size=1, **scope).total
    return render(request, "you/erase_scope_confirm.html", {"key": key, "value": value, "count": count})


@login_required
@require_http_methods(["GET", "POST"])
def erase_session(request: HttpRequest) -> HttpResponse:
    return _erase_scope(request, key="session")


@login_required
@require_http_methods(["GET", "POST"])
def erase_agent(request: HttpRequest) -> HttpResponse:
    return _erase_scope(request, key="agent")


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def erase_all(request: HttpRequest) -> HttpResponse:
    member = you_selectors.member_for_request(request)
    form = PhraseForm(request.POST or None, phrase=ERASE_ALL_PHRASE)
    if request.method == "POST" and form.is_valid():
        receipt = services.memory_delete_all(member=member, requested_by=request.user)
        return redirect(_receipt_url(receipt))
    return render(request, "you/erase_all.html", {
        "form": form, "count": selectors.memory_count(member=member), "member": member,
    }, status=400 if form.errors else 200)


@login_required
@require_GET
def export(request: HttpRequest) -> StreamingHttpResponse:
    member = you_selectors.member_for_request(request)
    response = StreamingHttpResponse(
        you_selectors.export_chunks(member=member), content_type="application/json; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="memportal-{member.tenant.slug}-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def pause(request: HttpRequest) -> HttpResponse:
    member = you_selectors.member_for_request(request)
    if request.method == "POST":
        paused = request.POST.get("paused") == "1"
        services.memory_pause_set(member=member, paused=paused)
        messages.success(request, "Memory is paused: agents cannot save new memories about you."
                         if paused else "Memory is on again: agents may save new memories about you.")
        return redirect("you:pause")
    return render(request, "you/pause.html", {"member": member})


@login_required
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    member = you_selectors.member_for_request(request)
    records = access_records_for_member(member=member)[:200]
    return render(request, "you/access.html", {"member": member, "records": records})


@login_required
@require_POST
def tenant_switch(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("tenant", "")
    # Only the person's own memberships are choices; any other value changes nothing.
    if any(m.tenant.slug == wanted for m in you_selectors.member_choices(request=request)):
        request.session[you_selectors.TENANT_SESSION_KEY] = wanted
    else:
        messages.error(request, "You can only switch to an app you belong to.")
    return redirect("you:list")


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = PhraseForm(request.POST or None, phrase=DELETE_ACCOUNT_PHRASE)
    if request.method == "POST" and form.is_valid():
        receipts = you_services.account_delete(user=request.user)
        logout(request)
        # After logout the session is new and anonymous: it only carries the receipt ids.
        request.session[you_selectors.ACCOUNT_RECEIPTS_SESSION_KEY] = [str(r.pk) for r in receipts]
        return redirect("you:account_deleted")
    memberships = you_selectors.member_choices(request=request)
    total = sum(selectors.memory_count(member=m) for m in memberships)
    return render(request, "you/account_delete.html", {
        "form": form, "memberships": memberships, "count": total,
    }, status=400 if form.errors else 200)


@require_GET
def account_deleted(request: HttpRequest) -> HttpResponse:
    ids = request.session.get(you_selectors.ACCOUNT_RECEIPTS_SESSION_KEY)
    if not ids:
        raise Http404("No account deletion in this browser session.")
    receipts = you_selectors.receipts_by_ids(receipt_ids=ids)
    return render(request, "you/receipt.html", {"receipts": receipts, "account_deleted": True})
