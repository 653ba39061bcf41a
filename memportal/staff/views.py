"""Staff audit pages. Thin: access check, form, selector, access record, template.

Every page that shows memories writes an AccessRecord before responding. Staff read only:
nothing here changes or deletes a memory.
"""

from __future__ import annotations

import json
import re

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from memportal import access
from memportal.memory import tenant_selectors
from memportal.memory.errors import InvalidInput
from memportal.memory.ledger import memory_reads_record
from memportal.memory.models import MemoryRead

from . import services
from .forms import LOOKUPS, AuditFilterForm
from .models import AccessRecord, ExportJob

#: what an agent/session id may start with (validation.ID_PATTERN, any prefix of it)
ID_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}")
_CONTENT_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    access.access_staff_area(user=request.user)
    tenants = access.staff_tenants(user=request.user)
    return render(request, "staff/index.html", {"tenants": tenants})


def _filter_query(request: HttpRequest, *drop: str) -> str:
    params = request.GET.copy()
    for key in ("page", "fmt", *drop):
        params.pop(key, None)
    return params.urlencode()


@login_required
@require_GET
def audit(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = access.access_tenant_for_staff(user=request.user, slug=slug)
    form = AuditFilterForm(request.GET, tenant=tenant)
    context: dict = {"tenant": tenant, "form": form, "records": [], "page": None,
                     "summary_limit": tenant_selectors.SUMMARY_LIMIT}
    status = 200
    action = AccessRecord.Action.VIEW
    shown: list = []
    in_use: dict = {}
    if form.is_valid():
        flt = form.audit_filter(with_text=True)
        scope_flt = form.audit_filter(with_text=form.search_mode == "text")
        page_no = form.cleaned_data.get("page") or 1
        page_size = form.cleaned_data.get("page_size") or 50
        in_use = flt.as_dict()
        try:
            # The total and the summaries (the SUMMARY_LIMIT largest people and agents): one query.
            summary = tenant_selectors.tenant_summary(tenant=tenant, flt=scope_flt)
            context["person_counts"], context["agent_counts"] = summary.people, summary.agents
            if form.query and form.search_mode == "semantic":
                action = AccessRecord.Action.SEARCH
                shown = tenant_selectors.tenant_memory_search(
                    tenant=tenant, query=form.query, flt=flt, limit=page_size
                )
                in_use.update({"search": form.query, "mode": "semantic", "limit": page_size})
            else:
                if form.query:
                    action = AccessRecord.Action.SEARCH
                # In text mode the page's filter is the summary's: its total is already counted.
                page = tenant_selectors.tenant_memory_page(
                    tenant=tenant, flt=flt, page=page_no, page_size=page_size, total=summary.total
                )
                shown = page.items
                context["page"] = page
                in_use.update({"page": page.page, "page_size": page.page_size})
        except InvalidInput as exc:
            form.add_error(None, f"{exc.field}: {exc.message}")
            status = 400
            shown = []
            context["person_counts"], context["agent_counts"], context["page"] = [], [], None
    else:
        status = 400
    services.access_record_write(
        tenant=tenant, actor=request.user, action=action, flt=in_use,
        subject_ids=[r.subject_id for r in shown], memories_shown=len(shown),
    )
    # Each memory shown, in its read ledger (the person's memory page), as the staff member's look.
    memory_reads_record(tenant=tenant, records=shown, via=MemoryRead.Via.STAFF,
                        reader=getattr(request.user, "email", "") or str(request.user))
    # Labels for the people on this page and in the summary only: one query, never the whole tenant.
    chosen = in_use.get("person") if in_use.get("person") != "any" else None
    labels = tenant_selectors.people_labels(
        tenant=tenant,
        subject_ids={r.subject_id for r in shown} | {c.value for c in context.get("person_counts", [])}
        | ({chosen} if chosen else set()),
    )
    context.update({
        "rows": [(r, labels.get(r.subject_id, r.subject_id)) for r in shown],
        "person_counts": [(c, labels.get(c.value, c.value)) for c in context.get("person_counts", [])],
        "filter_in_use": in_use,
        "filter_person_label": labels.get(chosen, "") if chosen else "",
        "export_jobs": access.export_jobs_visible(user=request.user, tenant=tenant)[:5],
        "audit_report": access.audit_reports_visible(user=request.user, tenant=tenant).first(),
        "page_query": _filter_query(request),
        "filter_query": _filter_query(request),  # "Export this filter" (was missing: it exported everything)
    })
    return render(request, "staff/audit.html", context, status=status)


@login_required
@require_GET
def lookup(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """Suggestions for the person/agent/session filter fields: at most LOOKUP_LIMIT <option>s.

    Labels and ids only, never memory text, so a lookup is not written to the access log.
    """
    tenant = access.access_tenant_for_staff(user=request.user, slug=slug)
    if kind not in LOOKUPS:
        raise Http404()
    prefix = request.GET.get(kind, request.GET.get("q", ""))
    prefix = prefix.strip() if isinstance(prefix, str) else ""
    options: list[tuple[str, str]] = []
    if len(prefix) <= 254 and "\x00" not in prefix:
        if kind == "person":
            options = [(s.value, s.label) for s in tenant_selectors.person_suggestions(tenant=tenant, prefix=prefix)]
        elif prefix == "" or ID_PREFIX.fullmatch(prefix):
            options = [(v, v) for v in tenant_selectors.scope_suggestions(tenant=tenant, key=LOOKUPS[kind],
                                                                           prefix=prefix)]
    response = render(request, "staff/_lookup_options.html", {"kind": kind, "options": options})
    response["Cache-Control"] = "no-store"
    return response


def _export_filter(request: HttpRequest, tenant) -> tuple[tenant_selectors.AuditFilter, str]:
    """The filter of the audit page (semantic ranking does not apply to a full export)."""
    fmt = request.GET.get("fmt") if request.method == "GET" else request.POST.get("fmt")
    if fmt not in _CONTENT_TYPES:
        raise Http404()
    source = request.GET if request.method == "GET" else request.POST
    form = AuditFilterForm(source, tenant=tenant)
    if not form.is_valid():
        raise Http404()
    return form.audit_filter(with_text=form.search_mode == "text"), fmt


@login_required
@require_GET
def export_download(request: HttpRequest, slug: str) -> HttpResponse:
    """Stream the export: keyset batches from PostgreSQL, one line per memory, never all in memory."""
    tenant = access.access_tenant_for_staff(user=request.user, slug=slug)
    flt, fmt = _export_filter(request, tenant)
    _, lines = services.export_stream_start(tenant=tenant, actor=request.user, flt=flt, fmt=fmt)
    response = StreamingHttpResponse(lines, content_type=_CONTENT_TYPES[fmt])
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{tenant.slug}-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def export_job_start(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = access.access_tenant_for_staff(user=request.user, slug=slug)
    flt, fmt = _export_filter(request, tenant)
    job = services.export_job_create(tenant=tenant, actor=request.user, flt=flt, fmt=fmt)
    return redirect("staff:export_job", slug=tenant.slug, job_id=job.pk)


def _export_job(request: HttpRequest, slug: str, job_id) -> tuple:
    """(tenant, job) for staff of the tenant who requested the job; 404 otherwise."""
    tenant = access.access_tenant_for_staff(user=request.user, slug=slug)
    return tenant, access.access_export_job(user=request.user, tenant=tenant, job_id=job_id)


@login_required
@require_GET
def export_job_detail(request: HttpRequest, slug: str, job_id) -> HttpResponse:
    tenant, job = _export_job(request, slug, job_id)
    return render(request, "staff/export_job.html", {"tenant": tenant, "job": job})


@login_required
@require_GET
def export_job_progress(request: HttpRequest, slug: str, job_id) -> HttpResponse:
    tenant, job = _export_job(request, slug, job_id)
    return render(request, "staff/_export_progress.html", {"tenant": tenant, "job": job})


@login_required
@require_GET
def export_job_download(request: HttpRequest, slug: str, job_id) -> HttpResponse:
    _, job = _export_job(request, slug, job_id)
    path = services.export_job_path(job)
    if job.state != ExportJob.State.DONE or job.expires_at <= timezone.now() or not path.exists():
        raise Http404()
    services.export_file_downloaded(job=job, actor=request.user)
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=job.file_name,  # noqa: SIM115
                            content_type=_CONTENT_TYPES[job.fmt])
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def audit_report_download(request: HttpRequest, slug: str, report_id) -> HttpResponse:
    """The stored nightly audit report as JSON (counts and subject ids, no memory text); logged as a look."""
    tenant = access.access_tenant_for_staff(user=request.user, slug=slug)
    report = access.access_audit_report(user=request.user, tenant=tenant, report_id=report_id)
    services.access_record_write(
        tenant=tenant, actor=request.user, action=AccessRecord.Action.VIEW,
        flt={"audit_report": str(report.pk), "delivery": "download"},
        subject_ids=[row.get("value", "") for row in report.counts.get("per_person", [])], memories_shown=0,
    )
    body = json.dumps({"report_id": str(report.pk), "created_at": report.created_at.isoformat(),
                       "run_seconds": report.run_seconds, **report.counts}, indent=2, sort_keys=True)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{tenant.slug}-audit-{report.created_at:%Y%m%d-%H%M%S}.json"'
    )
    response["Cache-Control"] = "no-store"
    return response


#: deliveries listed on the staff webhooks page (newest first): a bounded page, not the whole log
WEBHOOK_DELIVERIES_SHOWN = 100


@login_required
@require_GET
def webhooks(request: HttpRequest, slug: str) -> HttpResponse:
    """The tenant's webhooks and their latest deliveries, each with every attempt (status, error,
    duration, worker). No memory text and no person's id is shown; the look is logged all the same."""
    from memportal.agents.models import Webhook

    tenant = access.access_tenant_for_staff(user=request.user, slug=slug)
    deliveries = list(access.webhook_deliveries_visible(user=request.user, tenant=tenant)
                      .select_related("webhook").prefetch_related("attempt_rows")
                      .order_by("-created_at")[:WEBHOOK_DELIVERIES_SHOWN])
    services.access_record_write(tenant=tenant, actor=request.user, action=AccessRecord.Action.VIEW,
                                 flt={"page": "webhooks"}, subject_ids=[], memories_shown=0)
    return render(request, "staff/webhooks.html", {
        "tenant": tenant, "webhooks": Webhook.objects.filter(tenant=tenant).order_by("-deleted_at", "created_at"),
        "deliveries": deliveries, "shown": WEBHOOK_DELIVERIES_SHOWN,
    })
