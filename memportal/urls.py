from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from memportal import docs
from memportal.you import views as you_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="you:list", permanent=False)),
    path("accounts/", include("allauth.urls")),
    path("you/", include("memportal.you.urls")),
    path("docs/api/", docs.api_docs, name="api_docs"),
    path("receipts/public-key", you_views.receipt_public_key, name="receipt_public_key"),
    path("", include("memportal.agents.urls")),
    path("staff/", include("memportal.staff.urls")),
    path("offboarding/", include("memportal.offboarding.urls")),
    path("admin/", admin.site.urls),
]

# Branded pages for people, JSON on the API's paths (memportal/errors.py).
handler403 = "memportal.errors.permission_denied"
handler404 = "memportal.errors.page_not_found"
handler500 = "memportal.errors.server_error"
