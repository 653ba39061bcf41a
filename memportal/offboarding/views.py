"""Offboarding pages, superusers only: choose, dry run, re-authenticate, type the app_id, start.

Re-authentication guards the GET of the confirmation page, so allauth sends the admin back to
that page (a GET) after the password; the POST only checks it. Had the POST itself raised
allauth's ReauthenticationRequired, allauth would replay the stored POST from its
reauthenticate view: a typing mistake then showed the form's errors under
/accounts/reauthenticate/, and the admin never saw the confirmation after re-authenticating.
"""

from __future__ import annotations

from functools import wraps

from allauth.account.decorators import reauthentication_required
from allauth.core.exceptions import ReauthenticationRequired
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from memportal import access
from memportal.memory.models import Tenant

from . import services
from .models import OffboardingJob


def superuser_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        access.access_superuser(user=request.user)
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def access_tenant(request: HttpRequest, slug: object) -> Tenant:
    return access.access_tenant_for_offboarding(user=request.user, slug=slug)


def access_job(request: HttpRequest, job_id: object) -> OffboardingJob:
    return access.access_offboarding_job(user=request.user, job_id=job_id)


class ConfirmForm(forms.Form):
    confirm = forms.CharField(label="Type the app_id to confirm", max_length=63)
    memberships = forms.ChoiceField(
        choices=OffboardingJob.Memberships.choices, initial=OffboardingJob.Memberships.END,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.tenant.slug:
            raise forms.ValidationError("That is not this tenant's app_id; nothing was started.")
        return value


@superuser_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    tenants = Tenant.objects.all()
    jobs = OffboardingJob.objects.select_related("tenant")[:20]
    return render(request, "offboarding/index.html", {"tenants": tenants, "jobs": jobs})


def _page_context(tenant: Tenant) -> dict:
    return {
        "tenant": tenant, "dry_run": services.offboarding_dry_run(tenant=tenant),
        "active_job": OffboardingJob.objects.filter(tenant=tenant, state__in=["queued", "running"]).first(),
        "past_jobs": OffboardingJob.objects.filter(tenant=tenant)[:10],
    }


def _reauthentication_missing(request: HttpRequest) -> bool:
    """allauth's own check (the public decorator, run on a no-op view): same timeout, same methods."""
    try:
        reauthentication_required(lambda _request: None)(request)
    except ReauthenticationRequired:
        return True
    return False


@superuser_required
@require_GET
def tenant_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The dry run; no password needed to look."""
    return render(request, "offboarding/tenant.html", _page_context(access_tenant(request, slug)))


def _confirm_page(request: HttpRequest, tenant: Tenant, form: ConfirmForm, status: int = 200) -> HttpResponse:
    return render(request, "offboarding/confirm.html", {**_page_context(tenant), "form": form}, status=status)


@superuser_required
@require_GET
@reauthentication_required
def job_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """The typed confirmation, shown only after a recent password; allauth returns here after it."""
    tenant = access_tenant(request, slug)
    return _confirm_page(request, tenant, ConfirmForm(tenant=tenant))


@superuser_required
@require_POST
def job_start(request: HttpRequest, slug: str) -> HttpResponse:
    """The typed app_id guards against the wrong tenant; the password must still be recent."""
    tenant = access_tenant(request, slug)
    if _reauthentication_missing(request):
        # Expired while the form was open: ask again, then show the form again. Nothing is
        # replayed, so nothing starts without the admin seeing the confirmation once more.
        confirm_url = reverse("offboarding:confirm", kwargs={"slug": tenant.slug})
        return redirect(f"{reverse('account_reauthenticate')}?{urlencode({'next': confirm_url})}")
    form = ConfirmForm(request.POST, tenant=tenant)
    if not form.is_valid():
        return _confirm_page(request, tenant, form, status=400)
    job = services.offboarding_start(
        tenant=tenant, requested_by=request.user, via="admin", memberships_action=form.cleaned_data["memberships"]
    )
    return redirect("offboarding:job", job_id=job.pk)


@superuser_required
@require_GET
def job_detail(request: HttpRequest, job_id) -> HttpResponse:
    return render(request, "offboarding/job.html", {"job": access_job(request, job_id)})


@superuser_required
@require_GET
def job_progress(request: HttpRequest, job_id) -> HttpResponse:
    return render(request, "offboarding/_progress.html", {"job": access_job(request, job_id)})
