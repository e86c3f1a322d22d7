from django.urls import path

from apps.dashboard.views import (
    account,
    agents,
    integrations,
    notifications,
    runs,
    schedules,
    store,
)

app_name = "dashboard"

urlpatterns = [
    path("agents", agents.agent_list, name="agents"),
    path("agents/from-template", agents.agent_create_from_template, name="agent-from-template"),
    path("agents/import", agents.agent_import, name="agent-import"),
    path("agents/<uuid:graph_id>", agents.agent_detail, name="agent"),
    path("agents/<uuid:graph_id>/run", agents.agent_run, name="agent-run"),
    path(
        "agents/<uuid:graph_id>/versions/<int:version>/activate",
        agents.agent_activate_version,
        name="agent-activate",
    ),
    path(
        "agents/<uuid:graph_id>/presets/<uuid:preset_id>/run",
        agents.preset_run,
        name="preset-run",
    ),
    path(
        "agents/<uuid:graph_id>/presets/<uuid:preset_id>/delete",
        agents.preset_delete,
        name="preset-delete",
    ),
    path("agents/<uuid:graph_id>/submit", store.agent_submit, name="agent-submit"),
    path("schedules/preview", schedules.cron_preview, name="cron-preview"),
    path("schedules/<uuid:schedule_id>/toggle", schedules.schedule_toggle, name="schedule-toggle"),
    path("schedules/<uuid:schedule_id>/delete", schedules.schedule_delete, name="schedule-delete"),
    path("store", store.store_browse, name="store"),
    path("store/submissions", store.submissions, name="submissions"),
    path("store/submissions/<uuid:version_id>/edit", store.submission_edit, name="submission-edit"),
    path(
        "store/submissions/<uuid:version_id>/withdraw",
        store.submission_withdraw,
        name="submission-withdraw",
    ),
    path("store/<str:username>/<slug:slug>", store.store_listing, name="store-listing"),
    path("store/<str:username>/<slug:slug>/review", store.store_review, name="store-review"),
    path(
        "store/<str:username>/<slug:slug>/add",
        store.store_add_to_library,
        name="store-add-to-library",
    ),
    path("library", store.library, name="library"),
    path("library/<uuid:library_agent_id>", store.library_agent, name="library-agent"),
    path("library/<uuid:library_agent_id>/run", store.library_agent_run, name="library-run"),
    path(
        "library/<uuid:library_agent_id>/update",
        store.library_agent_update,
        name="library-update",
    ),
    path("library/<uuid:library_agent_id>/fork", store.library_agent_fork, name="library-fork"),
    path("notifications", notifications.notification_list, name="notifications"),
    path(
        "notifications/read-all",
        notifications.notification_read_all,
        name="notifications-read-all",
    ),
    path(
        "notifications/<uuid:notification_id>/read",
        notifications.notification_read,
        name="notification-read",
    ),
    path("chat", integrations.chat, name="chat"),
    path("chat/<uuid:session_id>", integrations.chat_session, name="chat-session"),
    path(
        "chat/<uuid:session_id>/delete",
        integrations.chat_session_delete,
        name="chat-session-delete",
    ),
    path("settings/credentials", integrations.credentials, name="credentials"),
    path(
        "settings/credentials/connect/<slug:provider>",
        integrations.credential_connect,
        name="credential-connect",
    ),
    path(
        "settings/credentials/oauth2/callback",
        integrations.oauth2_callback,
        name="oauth2-callback",
    ),
    path(
        "settings/credentials/<uuid:credential_id>/delete",
        integrations.credential_delete,
        name="credential-delete",
    ),
    path("runs", runs.run_list, name="runs"),
    path("runs/<uuid:graph_exec_id>", runs.run_detail, name="run"),
    path("runs/<uuid:graph_exec_id>/stop", runs.run_stop, name="run-stop"),
    path("credits", account.credits_page, name="credits"),
    path("credits/top-up", account.credits_top_up, name="credits-top-up"),
    path("settings/api-keys", account.api_keys, name="api-keys"),
    path("settings/api-keys/<uuid:key_id>/revoke", account.api_key_revoke, name="api-key-revoke"),
    path("settings/profile", account.profile, name="profile"),
]
