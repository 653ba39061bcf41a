from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="you:list", permanent=False)),
    path("accounts/", include("allauth.urls")),
    path("you/", include("memportal.you.urls")),
    path("", include("memportal.agents.urls")),
    path("staff/", include("memportal.staff.urls")),
    path("offboarding/", include("memportal.offboarding.urls")),
    path("admin/", admin.site.urls),
]
