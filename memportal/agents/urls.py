from django.urls import include, path

from . import views
from .api import views as api
from .api.openapi import openapi_json

app_name = "agents"

# The mem0 client's paths, relative to its ``host``. Served at the site root (host = the site's
# URL, as docs/api.md shows) and under /api/ (host = <site>/api) for deployments that route
# only /api/ to memportal.
platform = [
    path("v1/ping/", api.ping, name="ping"),
    path("v1/memories/", api.memories_root, name="memories_root"),
    path("v1/memories/search/", api.memories_search),
    path("v1/memories/jobs/<str:job_id>/", api.delete_job, name="delete_job"),
    path("v1/memories/<str:memory_id>/", api.memory_detail, name="memory_detail"),
    path("v1/memories/<str:memory_id>/history/", api.memory_history, name="memory_history"),
    path("v2/memories/", api.memories_list),
    path("v2/memories/search/", api.memories_search),
    path("v3/memories/", api.memories_list, name="memories_list"),
    path("v3/memories/add/", api.memories_add, name="memories_add"),
    path("v3/memories/search/", api.memories_search, name="memories_search"),
    path("v1/exports/", api.exports_create, name="exports_create"),
    path("v1/exports/get/", api.exports_get, name="exports_get"),
]

urlpatterns = [
    path("", include(platform)),
    path("api/", include((platform, "platform"), namespace="api_platform")),
    path("api/openapi.json", openapi_json, name="openapi"),
    path("api/v1/portal-sessions", api.portal_sessions, name="portal_sessions"),
    path("api/v1/portal-sessions/", api.portal_sessions),
    path("api/keys/", views.appkey_list, name="keys"),
    path("api/keys/<int:pk>/revoke/", views.appkey_revoke_view, name="key_revoke"),
    path("portal/<str:token>/", views.portal_enter, name="portal_enter"),
    path("assistant/", views.assistant, name="assistant"),
    path("assistant/turn/", views.assistant_turn, name="assistant_turn"),
]
