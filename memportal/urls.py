from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from memportal.you import views as you_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="you:list", permanent=False)),
    path("accounts/", include("allauth.urls")),
    path("you/", include("memportal.you.urls")),
    path("receipts/public-key", you_views.receipt_public_key, name="receipt_public_key"),
    path("", include("memportal.agents.urls")),
    path("staff/", include("memportal.staff.urls")),
    path("offboarding/", include("memportal.offboarding.urls")),
    path("admin/", admin.site.urls),
]
