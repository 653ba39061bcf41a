"""Staff set their tenant's default auto-delete (people may choose their own on /you/auto-delete/).

The change is written to the append-only access log like every other staff action.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from memportal import access
from memportal.memory.models import RETENTION_CHOICES, Membership

from . import services
from .models import AccessRecord


class TenantRetentionForm(forms.Form):
    retention_months = forms.TypedChoiceField(
        label="Default auto-delete", coerce=int, choices=[(str(v), label) for v, label in RETENTION_CHOICES],
    )


@login_required
@require_http_methods(["GET", "POST"])
def tenant_retention(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = access.access_tenant_for_staff(user=request.user, slug=slug)
    form = TenantRetentionForm(request.POST or None, initial={"retention_months": str(tenant.retention_months)})
    if request.method == "POST" and form.is_valid():
        previous, months = tenant.retention_months, form.cleaned_data["retention_months"]
        tenant.retention_months = months
        tenant.save(update_fields=["retention_months"])
        services.access_record_write(
            tenant=tenant, actor=request.user, action=AccessRecord.Action.SETTING,
            flt={"setting": "retention_months", "from": previous, "to": months}, subject_ids=[], memories_shown=0,
        )
        messages.success(request, f"Default auto-delete for {tenant.name}: {dict(RETENTION_CHOICES)[months].lower()}.")
        return redirect("staff:retention", slug=tenant.slug)
    own = Membership.objects.filter(tenant=tenant, ended_at__isnull=True).aggregate(
        total=Count("pk"), chose=Count("pk", filter=Q(retention_months__isnull=False)))
    return render(request, "staff/retention.html", {
        "tenant": tenant, "form": form, "own": own,
        "changes": AccessRecord.objects.filter(tenant=tenant, action=AccessRecord.Action.SETTING)[:20],
    }, status=400 if form.errors else 200)
