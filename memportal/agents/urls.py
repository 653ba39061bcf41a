from django.urls import include, path, re_path

from . import views
from .api import platform as platform_api
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
    path("v1/entities/", platform_api.entities, name="entities"),
    path("v2/entities/<str:kind>/<str:name>/", platform_api.entity_delete, name="entity_delete"),
    path("v1/entities/<str:kind>/<str:name>/", platform_api.entity_delete),  # the TypeScript SDK's deleteUser
    path("v2/entities/user/<str:entity_id>/profile/", platform_api.profiles),
    path("v2/entities/user/<str:entity_id>/profile/generate/", platform_api.profiles),
    path("v2/profiles/<path:rest>", platform_api.profiles),
    path("v1/batch/", platform_api.batch, name="batch"),
    path("v1/feedback/", platform_api.feedback, name="feedback"),
    path("v1/summary/", platform_api.summary, name="summary"),
    path("v1/events/", platform_api.events, name="events"),
    path("v1/event/<str:event_id>/", platform_api.event_detail, name="event_detail"),
]

urlpatterns = [
    path("", include(platform)),
    path("api/", include((platform, "platform"), namespace="api_platform")),
    path("api/openapi.json", openapi_json, name="openapi"),
    path("api/v1/orgs/organizations/<str:org_id>/projects/", platform_api.projects_create),
    path("api/v1/orgs/organizations/<str:org_id>/projects/<str:project_id>/", platform_api.project, name="project"),
    path("api/v1/orgs/organizations/<str:org_id>/projects/<str:project_id>/members/", platform_api.project_members),
    path("api/v1/webhooks/projects/<str:project_id>/", platform_api.webhooks, name="webhooks"),
    path("api/v1/webhooks/<str:webhook_id>/", platform_api.webhook_detail, name="webhook_detail"),
    path("api/v1/portal-sessions", api.portal_sessions, name="portal_sessions"),
    path("api/v1/portal-sessions/", api.portal_sessions),
    path("api/keys/", views.appkey_list, name="keys"),
    path("api/keys/<int:pk>/revoke/", views.appkey_revoke_view, name="key_revoke"),
    path("portal/<str:token>/", views.portal_enter, name="portal_enter"),
    path("assistant/", views.assistant, name="assistant"),
    path("assistant/turn/", views.assistant_turn, name="assistant_turn"),
    # Anything else under the API's prefixes is a JSON 404 in the platform's {"detail": ...} shape,
    # never Django's HTML page (the mem0 clients would show that HTML as the error message).
    re_path(r"^(?:api/)?v[0-9]+/", api.not_found, name="api_not_found"),
]
