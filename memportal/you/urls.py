from django.urls import path

from . import agent_views, apps_views, import_views, retention_views, views

app_name = "you"
urlpatterns = [
    path("", views.memory_list, name="list"),
    path("search/", views.memory_search, name="search"),
    path("memories/<str:memory_id>/", views.memory_detail, name="detail"),
    path("memories/<str:memory_id>/edit/", views.memory_edit, name="edit"),
    path("memories/<str:memory_id>/delete/", views.memory_delete, name="delete"),
    path("receipts/<str:receipt_id>/", views.receipt_detail, name="receipt"),
    path("receipts/<str:receipt_id>/signed.json", views.receipt_signed, name="receipt_signed"),
    path("welcome/", views.welcome, name="welcome"),
    path("erase/session/", views.erase_session, name="erase_session"),
    path("erase/agent/", views.erase_agent, name="erase_agent"),
    path("erase/everything/", views.erase_all, name="erase_all"),
    path("download/", views.export, name="export"),
    path("pause/", views.pause, name="pause"),
    path("who-looked/", views.access_log, name="access"),
    path("app/", views.tenant_switch, name="tenant_switch"),
    path("account/delete/", views.account_delete, name="account_delete"),
    path("account/deleted/", views.account_deleted, name="account_deleted"),
    # issue 12: what an app sees, auto-delete, delete by date, import, the receipts list
    path("agent-view/", agent_views.agent_view, name="agent_view"),
    path("auto-delete/", retention_views.retention, name="retention"),
    path("erase/range/", retention_views.erase_range, name="erase_range"),
    path("receipts/", retention_views.receipts, name="receipts"),
    path("import/", import_views.import_start, name="import"),
    path("import/confirm/", import_views.import_confirm, name="import_confirm"),
    # "Your apps" (issue 12): every app that holds memories about the person, and its controls.
    path("apps/", apps_views.apps_index, name="apps"),
    path("apps/<str:slug>/remembering/", apps_views.app_control, {"control": "remembering"},
         name="app_remembering"),
    path("apps/<str:slug>/reading/", apps_views.app_control, {"control": "reading"}, name="app_reading"),
    path("apps/<str:slug>/erase/", apps_views.app_erase, name="app_erase"),
]
