from django.urls import path

from apps.dashboard.views import account, agents, runs

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
    path("runs", runs.run_list, name="runs"),
    path("runs/<uuid:graph_exec_id>", runs.run_detail, name="run"),
    path("runs/<uuid:graph_exec_id>/stop", runs.run_stop, name="run-stop"),
    path("credits", account.credits_page, name="credits"),
    path("credits/top-up", account.credits_top_up, name="credits-top-up"),
    path("settings/api-keys", account.api_keys, name="api-keys"),
    path("settings/api-keys/<uuid:key_id>/revoke", account.api_key_revoke, name="api-key-revoke"),
    path("settings/profile", account.profile, name="profile"),
]
