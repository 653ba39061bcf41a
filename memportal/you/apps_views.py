""""Your apps": every app that holds memories about the person, and their controls per app.

Per app (one membership): stop it remembering them (``memory_paused``, the same flag as "Pause
memory"), stop it reading their memories (``reads_stopped``), resume either, and erase everything
it holds (re-authenticated, typed phrase, a receipt). The API enforces both stops in one place:
``memportal.access.member_intent_check`` (423). Only the person's own memberships can be named;
any other app_id is 404, like a missing one.
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from memportal import access
from memportal.memory import selectors, services
from memportal.memory.models import Membership

from . import apps_selectors
from . import selectors as you_selectors
from .forms import ERASE_ALL_PHRASE, PhraseForm


def _own_app(request: HttpRequest, slug: str) -> Membership:
    """One of the signed-in person's active memberships, by its app_id; else 404 (foreign or missing)."""
    try:
        return access.person_membership_choose(members=you_selectors.member_choices(request=request), tenant_slug=slug)
    except access.NotFound as exc:
        raise Http404("No such app of yours.") from exc


def _stopped(request: HttpRequest) -> bool:
    """``stopped=1`` stops, ``stopped=0`` resumes; anything else is a 400 that changes nothing."""
    values = request.POST.getlist("stopped")
    if len(values) != 1 or values[0] not in {"0", "1"}:
        raise BadRequest("Send stopped=1 to stop or stopped=0 to resume.")
    return values[0] == "1"


@login_required
@require_GET
def apps_index(request: HttpRequest) -> HttpResponse:
    members = you_selectors.member_choices(request=request)
    if not members:
        return redirect("you:welcome")
    current = you_selectors.member_for_request(request)
    apps = apps_selectors.app_summaries(members=members, current=current)
    return render(request, "you/apps.html", {
        "apps": apps, "total": sum(a.memories for a in apps),
    })


#: Per control: the service that sets it, and what the person is told after stopping / resuming.
APP_CONTROLS = {
    "remembering": (
        lambda member, stopped: services.memory_pause_set(member=member, paused=stopped),
        "{app} can no longer save new memories about you.", "{app} may save new memories about you again.",
    ),
    "reading": (
        lambda member, stopped: services.memory_reads_stop_set(member=member, stopped=stopped),
        "{app} can no longer read your memories.", "{app} may read your memories again.",
    ),
}


@login_required
@require_POST
def app_control(request: HttpRequest, slug: str, control: str) -> HttpResponse:
    """Stop (``stopped=1``) or resume (``stopped=0``) one app remembering or reading the person."""
    member = _own_app(request, slug)
    stopped = _stopped(request)
    control_set, said_stopped, said_resumed = APP_CONTROLS[control]
    control_set(member, stopped)
    messages.success(request, (said_stopped if stopped else said_resumed).format(app=member.tenant.name))
    return redirect(reverse("you:apps") + f"#app-{member.tenant.slug}")


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def app_erase(request: HttpRequest, slug: str) -> HttpResponse:
    """Erase everything this one app holds about the person (the erase-everything flow, per app)."""
    member = _own_app(request, slug)
    form = PhraseForm(request.POST or None, phrase=ERASE_ALL_PHRASE)
    if request.method == "POST" and form.is_valid():
        receipt = services.memory_delete_all(member=member, requested_by=request.user)
        return redirect("you:receipt", receipt_id=receipt.pk)
    return render(request, "you/app_erase.html", {
        "form": form, "count": selectors.memory_count(member=member), "member": member,
    }, status=400 if form.errors else 200)
