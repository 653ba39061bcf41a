"""The "Your data" pages: a person sees, searches, corrects, downloads, pauses and erases
their own memories. Every view takes its scope from ``request.user`` (via
``selectors.member_for_request``); no URL or form field names a person or a tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from memportal import access
from memportal.agents.selectors import key_reads_for_member
from memportal.crypto import public_key_b64
from memportal.memory import selectors, services
from memportal.memory.errors import InvalidInput, MembershipEnded, MemoryNotFound
from memportal.memory.models import ErasureReceipt, Membership
from memportal.memory.receipts import receipt_document_signed
from memportal.memory.tenancy import membership_join_default
from memportal.memory.validation import single_param
from memportal.staff.selectors import access_records_for_member

from . import selectors as you_selectors
from . import services as you_services
from .forms import DELETE_ACCOUNT_PHRASE, ERASE_ALL_PHRASE, MemoryEditForm, PhraseForm
from .fragments import fragment_get, fragment_key
from .ledger_selectors import memory_ledger

PAGE_SIZE = 25


def _filters(params: Any) -> tuple[str | None, str | None]:
    """agent/session filters from GET or POST; empty means "no filter" (never "*"). A repeated
    parameter is a 400: taking the last value would let a link change what a page acts on."""
    try:
        agent, session = single_param(params, "agent"), single_param(params, "session")
    except InvalidInput as exc:
        raise BadRequest(exc.message) from exc
    return (agent or "").strip() or None, (session or "").strip() or None


def _memory_or_404(member: Membership, memory_id: str):
    try:
        return selectors.memory_get(member=member, memory_id=memory_id)
    except MemoryNotFound as exc:
        raise Http404("Memory not found.") from exc


def person_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, with an active membership (passed to the view as ``member``); else the welcome
    page, which says which apps ended and never joins anyone to a tenant by itself."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        member = you_selectors.member_for_request(request)
        if member is None:
            return redirect("you:welcome")
        return view(request, member, *args, **kwargs)

    return login_required(wrapped)


def _receipt_url(receipt: ErasureReceipt) -> str:
    return reverse("you:receipt", args=[receipt.pk])


@person_required
@require_GET
def memory_list(request: HttpRequest, member: Membership) -> HttpResponse:
    agent, session = _filters(request.GET)
    page_no = request.GET.get("page", 1)
    context: dict[str, Any] = {
        "member": member, "agent": agent, "session": session,
        "memberships": you_selectors.member_choices(request=request),
    }
    # The list, its totals and filters, cached per person and data version (you.fragments): a hit
    # skips both memory queries and most of the rendering; any write or erasure changes the key.
    context["fragment_key"] = fragment_key(
        member=member, user_pk=request.user.pk, name="list", parts=(agent, session, str(page_no))
    )
    context["fragment_html"] = fragment_get(context["fragment_key"])
    if context["fragment_html"] is not None:
        return render(request, "you/list.html", context)
    # One scan gives the total, both filter dropdowns and this filter's count (was four queries).
    summary = selectors.memory_scope_summary(member=member)
    context.update(all_total=summary.total, agents=summary.agents())
    try:
        # memory_list validates the filters (InvalidInput) before anything is looked up by them.
        context["page"] = selectors.memory_list(
            member=member, agent_id=agent, run_id=session,
            page=page_no, page_size=PAGE_SIZE,
            total=summary.count(agent_id=agent, run_id=session),
        )
        context["sessions"] = summary.sessions(agent_id=agent)
        context["rows"] = you_selectors.memory_rows(records=context["page"].items)
    except InvalidInput as exc:
        context["error"] = exc.message if exc.field != "page" else "That page number is not valid."
        context["fragment_key"] = None  # an error page is never cached
        return render(request, "you/list.html", context, status=400)
    base = {k: v for k, v in (("agent", agent), ("session", session)) if v}
    context["prev_query"] = urlencode({**base, "page": context["page"].page - 1})
    context["next_query"] = urlencode({**base, "page": context["page"].page + 1})
    return render(request, "you/list.html", context)


@person_required
@require_GET
def memory_search(request: HttpRequest, member: Membership) -> HttpResponse:
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
            # Ranked and cut by the relevance floor in the memory service (memory.ranking), the same
            # search an app's API call and the staff audit run.
            context["results"] = selectors.memory_search(
                member=member, query=query, agent_id=agent, run_id=session, limit=10
            )
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


@person_required
@require_GET
def memory_detail(request: HttpRequest, member: Membership, memory_id: str) -> HttpResponse:
    memory = _memory_or_404(member, memory_id)
    history = selectors.memory_history(member=member, memory_id=memory.id)
    feedback = selectors.memory_feedback(member=member, memory_id=memory.id)
    return render(request, "you/detail.html", {
        "memory": memory, "history": history, "feedback": feedback,
        "ledger": memory_ledger(member=member, memory=memory, history=history),  # provenance and reads
    })


@person_required
@require_http_methods(["GET", "POST"])
def memory_edit(request: HttpRequest, member: Membership, memory_id: str) -> HttpResponse:
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


@person_required
@require_http_methods(["GET", "POST"])
def memory_delete(request: HttpRequest, member: Membership, memory_id: str) -> HttpResponse:
    """GET: a confirm page (works without JavaScript). POST: erase; htmx removes the row."""
    memory = _memory_or_404(member, memory_id)
    if request.method == "GET":
        return render(request, "you/delete_confirm.html", {"memory": memory})
    try:
        receipt = services.memory_delete(member=member, memory_id=memory.id, requested_by=request.user)
    except MemoryNotFound as exc:
        raise Http404("Memory not found.") from exc
    if request.htmx:
        return _deleted_response(request, member, receipt)
    return redirect(_receipt_url(receipt))


def _deleted_response(request: HttpRequest, member: Membership, receipt: ErasureReceipt) -> HttpResponse:
    """htmx removed the row: update the counts around it (out of band) for the list's filter."""
    current = urlsplit(request.htmx.current_url or "")
    params = QueryDict(current.query)
    try:
        agent, session = _filters(params)
        page_no = max(1, int(params.get("page") or 1))
    except (BadRequest, ValueError):
        agent, session, page_no = None, None, 1
    summary = selectors.memory_scope_summary(member=member)
    total = summary.count(agent_id=agent, run_id=session)
    # Rows still on screen: the page held min(PAGE_SIZE, what was left from its offset); one went.
    shown = max(0, min(PAGE_SIZE, total + 1 - (page_no - 1) * PAGE_SIZE) - 1)
    response = render(request, "you/_deleted.html", {
        "receipt": receipt, "all_total": summary.total, "agent": agent, "session": session,
        "agents": summary.agents(), "sessions": summary.sessions(agent_id=agent),
        "shown": shown, "total": total,
    })
    if shown == 0 or current.path != reverse("you:list"):
        # The page emptied (its empty state, the pager) or is not the list: reload it whole.
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def receipt_detail(request: HttpRequest, receipt_id: str) -> HttpResponse:
    receipt = access.access_receipt(user=request.user, receipt_id=receipt_id)
    return render(request, "you/receipt.html", {"receipts": [receipt]})


@require_GET
def receipt_public_key(request: HttpRequest) -> HttpResponse:
    """The key that verifies this site's signed receipts (anyone may check a receipt with it)."""
    return HttpResponse(public_key_b64() + "\n", content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def receipt_signed(request: HttpRequest, receipt_id: str) -> HttpResponse:
    """The receipt as a signed JSON document (verify: ``manage.py receipt_verify``, docs/security.md)."""
    receipt = access.access_receipt(user=request.user, receipt_id=receipt_id)
    response = JsonResponse(receipt_document_signed(receipt=receipt), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="memportal-receipt-{receipt.pk}.json"'
    return response


def _erase_scope(request: HttpRequest, member: Membership, *, key: str) -> HttpResponse:
    """Erase one session (key="session") or everything one agent knows (key="agent")."""
    params = request.POST if request.method == "POST" else request.GET
    try:
        value = (single_param(params, key) or "").strip()
    except InvalidInput as exc:  # ?session=a&session=b: confirm one, erase another? never.
        raise BadRequest(exc.message) from exc
    scope = {"agent_id": value} if key == "agent" else {"run_id": value}
    # A session or agent the person has no memories with is "not found", whoever it belongs to.
    if not value or not you_selectors.scope_exists(member=member, **scope):
        raise Http404("Nothing to erase.")
    if request.method == "POST":
        receipt = services.memory_delete_all(member=member, requested_by=request.user, **scope)
        return redirect(_receipt_url(receipt))
    count = selectors.memory_list(member=member, page_size=1, **scope).total
    return render(request, "you/erase_scope_confirm.html", {"key": key, "value": value, "count": count})


@person_required
@require_http_methods(["GET", "POST"])
def erase_session(request: HttpRequest, member: Membership) -> HttpResponse:
    return _erase_scope(request, member, key="session")


@person_required
@require_http_methods(["GET", "POST"])
def erase_agent(request: HttpRequest, member: Membership) -> HttpResponse:
    return _erase_scope(request, member, key="agent")


@person_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def erase_all(request: HttpRequest, member: Membership) -> HttpResponse:
    form = PhraseForm(request.POST or None, phrase=ERASE_ALL_PHRASE)
    if request.method == "POST" and form.is_valid():
        receipt = services.memory_delete_all(member=member, requested_by=request.user)
        return redirect(_receipt_url(receipt))
    return render(request, "you/erase_all.html", {
        "form": form, "count": selectors.memory_count(member=member), "member": member,
    }, status=400 if form.errors else 200)


@person_required
@require_GET
def export(request: HttpRequest, member: Membership) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        you_selectors.export_chunks(member=member), content_type="application/json; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="memportal-{member.tenant.slug}-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@person_required
@require_http_methods(["GET", "POST"])
def pause(request: HttpRequest, member: Membership) -> HttpResponse:
    if request.method == "POST":
        paused = request.POST.get("paused") == "1"
        services.memory_pause_set(member=member, paused=paused)
        messages.success(request, "Memory is paused: agents cannot save new memories about you."
                         if paused else "Memory is on again: agents may save new memories about you.")
        return redirect("you:pause")
    return render(request, "you/pause.html", {"member": member})


@person_required
@require_GET
def access_log(request: HttpRequest, member: Membership) -> HttpResponse:
    records = list(access_records_for_member(member=member)[:200])
    for r in records:
        # The person's own memories among those shown, not the whole staff view. Records written
        # before per-person counts existed know it only when the view showed one person alone.
        r.yours = r.shown_per_subject.get(member.subject_id)
        if r.yours is None and r.subject_ids == [member.subject_id]:
            r.yours = r.memories_shown
    return render(request, "you/access.html", {
        "member": member,
        "records": records,
        "person_names": {member.subject_id: "you"},
        "key_reads": key_reads_for_member(member=member)[:200],
    })


@login_required
@require_POST
def tenant_switch(request: HttpRequest) -> HttpResponse:
    try:
        # Only the person's own memberships are choices; any other value changes nothing.
        chosen = access.person_membership_choose(
            members=you_selectors.member_choices(request=request), tenant_slug=request.POST.get("tenant", "")
        )
    except access.NotFound:
        messages.error(request, "You can only switch to an app you belong to.")
    else:
        request.session[you_selectors.TENANT_SESSION_KEY] = chosen.tenant.slug
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
    if ids is None:  # an empty list is a deletion with nothing left to erase (tenant offboarded)
        raise Http404("No account deletion in this browser session.")
    receipts = access.receipts_for_anonymous_session(receipt_ids=ids)
    return render(request, "you/receipt.html", {"receipts": receipts, "account_deleted": True})


@login_required
@require_http_methods(["GET", "POST"])
def welcome(request: HttpRequest) -> HttpResponse:
    """For a signed-in person with no active membership: which apps no longer hold memories about
    them (with the receipts), their work if they are staff, and an explicit way to start one."""
    people = you_selectors.person_memberships_for_request(request)
    if people.active:
        return redirect("you:list")
    can_join = access.person_may_join_sign_up_tenant(user=request.user, ended=people.ended)  # button and POST
    if request.method == "POST":
        if not can_join or request.POST.get("join") != "1":
            raise Http404()
        try:
            membership_join_default(user=request.user)
        except MembershipEnded:
            messages.error(request, "That app no longer takes new people.")
            return redirect("you:welcome")
        messages.success(request, "Memory is on: agents of this app may now remember things about you.")
        return redirect("you:list")
    return render(request, "you/welcome.html", {
        "ended": you_selectors.ended_apps(members=people.ended),
        "can_join": can_join,
        "default_tenant_name": settings.MEMPORTAL["DEFAULT_TENANT"].replace("_", " ").title(),
        "is_superuser": request.user.is_superuser,
        "is_staff": access.staff_tenants(user=request.user).exists(),
    })
