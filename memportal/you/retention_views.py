"""Auto-delete (retention) per app, delete by date range, and the person's receipts.

Scope, as everywhere on /you/: only request.user's own memberships, chosen by tenant slug among
them (``access.person_membership_choose``); nothing names a person or membership id.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from memportal import access
from memportal.memory.errors import InvalidInput
from memportal.memory.models import RETENTION_CHOICES, ErasureReceipt, Membership
from memportal.memory.retention import memory_count_in_window, memory_erase_range, retention_set, window_check

from . import selectors as you_selectors
from .views import person_required

#: The person's choices: the app's default (NULL) or one of the tenant choices.
DEFAULT_CHOICE = "default"
PERIODS = {"hour": ("The last hour", timedelta(hours=1)), "day": ("The last day", timedelta(days=1))}


class RetentionForm(forms.Form):
    tenant = forms.CharField(widget=forms.HiddenInput)
    retention = forms.ChoiceField(label="Auto-delete memories")

    def __init__(self, *args, member: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        default_label = dict(RETENTION_CHOICES)[member.tenant.retention_months]
        self.fields["retention"].choices = [
            (DEFAULT_CHOICE, f"The app's default ({default_label.lower()})"),
            *[(str(v), label) for v, label in RETENTION_CHOICES],
        ]
        self.fields["retention"].widget.attrs["id"] = f"retention-{member.tenant.slug}"
        self.initial.setdefault("tenant", member.tenant.slug)
        self.initial.setdefault(
            "retention", DEFAULT_CHOICE if member.retention_months is None else str(member.retention_months))

    def months(self) -> int | None:
        value = self.cleaned_data["retention"]
        return None if value == DEFAULT_CHOICE else int(value)


@person_required
@require_http_methods(["GET", "POST"])
def retention(request: HttpRequest, member: Membership) -> HttpResponse:
    """One auto-delete choice per app the person belongs to."""
    members = you_selectors.member_choices(request=request)
    status = 200
    bound: Membership | None = None
    if request.method == "POST":
        # Only one of the person's own apps, named explicitly: anything else (or nothing) is a 404.
        bound = access.person_membership_choose(members=members, tenant_slug=request.POST.get("tenant", ""))
        form = RetentionForm(request.POST, member=bound)
        if form.is_valid():
            retention_set(member=bound, months=form.months())
            chosen = dict(form.fields["retention"].choices)[form.cleaned_data["retention"]]
            messages.success(request, f"Auto-delete for {bound.tenant.name}: {chosen.lower()}. "
                                      "It runs every night; each run gives you a receipt.")
            return redirect("you:retention")
        status = 400
    rows = []
    for m in members:
        form = RetentionForm(request.POST, member=m) if bound is not None and m.pk == bound.pk else \
            RetentionForm(member=m)
        rows.append((m, form))
    return render(request, "you/retention.html", {"rows": rows}, status=status)


class RangeForm(forms.Form):
    tenant = forms.ChoiceField(label="App")
    period = forms.ChoiceField(
        label="What to delete", widget=forms.RadioSelect,
        choices=[("hour", "The last hour"), ("day", "The last day"), ("custom", "A custom range")],
    )
    start = forms.DateTimeField(label="From", required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    end = forms.DateTimeField(label="Until", required=False,
                              widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    def __init__(self, *args, members: list[Membership], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenant"].choices = [(m.tenant.slug, m.tenant.name) for m in members]

    def window(self, now: datetime) -> tuple[datetime | None, datetime]:
        """The chosen window, checked (InvalidInput: end before start, in the future, missing)."""
        period = self.cleaned_data["period"]
        if period in PERIODS:
            return now - PERIODS[period][1], now
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        if start is None:
            raise InvalidInput("start", "is needed for a custom range")
        if end is None:
            raise InvalidInput("end", "is needed for a custom range")
        window_check(start=start, end=end, now=now)
        return start, end


def _range_label(start: datetime | None, end: datetime) -> str:
    fmt = "%-d %b %Y, %H:%M %Z"
    s = timezone.localtime(start).strftime(fmt) if start else "the beginning"
    return f"from {s} until {timezone.localtime(end).strftime(fmt)}"


@person_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def erase_range(request: HttpRequest, member: Membership) -> HttpResponse:
    """Delete by date range, in two steps: the form shows how many memories the range holds and
    asks to confirm; only the confirm (with the same range, checked again) erases."""
    members = you_selectors.member_choices(request=request)
    form = RangeForm(request.POST or None, members=members, initial={"tenant": member.tenant.slug, "period": "hour"})
    context: dict = {"form": form, "tz": timezone.get_current_timezone_name()}
    if request.method == "GET":
        return render(request, "you/erase_range.html", context)
    if not form.is_valid():
        return render(request, "you/erase_range.html", context, status=400)
    chosen = access.person_membership_choose(members=members, tenant_slug=form.cleaned_data["tenant"])
    now = timezone.now()
    try:
        start, end = form.window(now)
    except InvalidInput as exc:
        what = {"start": "The start (From)", "end": "The end (Until)"}.get(exc.field, exc.field)
        form.add_error(exc.field if exc.field in form.fields else None, f"{what} {exc.message}; nothing was erased.")
        return render(request, "you/erase_range.html", context, status=400)
    if request.POST.get("confirm") != "1":
        context.update({
            "confirming": True, "member": chosen, "count": memory_count_in_window(member=chosen, start=start, end=end),
            "range_label": _range_label(start, end),
            # The confirm step repeats a custom range exactly; "last hour/day" are measured again.
            "start_value": start.isoformat() if form.cleaned_data["period"] == "custom" else "",
            "end_value": end.isoformat() if form.cleaned_data["period"] == "custom" else "",
        })
        return render(request, "you/erase_range.html", context)
    receipt = memory_erase_range(member=chosen, start=start, end=end, requested_by=request.user)
    if receipt is None:
        messages.info(request, f"Nothing was stored in {chosen.tenant.name} {_range_label(start, end)}; "
                               "nothing was erased.")
        return redirect("you:erase_range")
    return redirect(reverse("you:receipt", args=[receipt.pk]))


@login_required
@require_GET
def receipts(request: HttpRequest) -> HttpResponse:
    """Every erasure receipt of the person's own memberships (active or ended), newest first."""
    # The same receipts access.access_receipt lets the person open: their memberships' own, and
    # the offboarding receipts of tenants they belonged to.
    mine = Q(membership__user=request.user) | Q(kind=ErasureReceipt.Kind.TENANT,
                                                 tenant__memberships__user=request.user)
    rows = (ErasureReceipt.objects.filter(mine).distinct()
            .select_related("tenant").order_by("-finished_at")[:500])
    return render(request, "you/receipts.html", {"receipts": rows})
