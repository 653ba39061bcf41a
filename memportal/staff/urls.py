from django.urls import path

from . import retention_views, views

app_name = "staff"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:slug>/", views.audit, name="audit"),
    path("<str:slug>/retention/", retention_views.tenant_retention, name="retention"),
    path("<str:slug>/lookup/<str:kind>/", views.lookup, name="lookup"),
    path("<str:slug>/webhooks/", views.webhooks, name="webhooks"),
    path("<str:slug>/export/", views.export_download, name="export"),
    path("<str:slug>/audit-reports/<uuid:report_id>/download/", views.audit_report_download,
         name="audit_report_download"),
    path("<str:slug>/export/jobs/", views.export_job_start, name="export_job_start"),
    path("<str:slug>/export/jobs/<uuid:job_id>/", views.export_job_detail, name="export_job"),
    path("<str:slug>/export/jobs/<uuid:job_id>/progress/", views.export_job_progress,
         name="export_job_progress"),
    path("<str:slug>/export/jobs/<uuid:job_id>/download/", views.export_job_download,
         name="export_job_download"),
]
