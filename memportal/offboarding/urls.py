from django.urls import path

from . import views

app_name = "offboarding"
urlpatterns = [
    path("", views.index, name="index"),
    path("tenants/<str:slug>/", views.tenant_detail, name="tenant"),
    path("tenants/<str:slug>/confirm/", views.job_confirm, name="confirm"),
    path("tenants/<str:slug>/start/", views.job_start, name="start"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job"),
    path("jobs/<uuid:job_id>/progress/", views.job_progress, name="job_progress"),
]
