from django.contrib import admin

from apps.webhooks.models import Webhook, WebhookCall


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "graph", "graph_version", "preset", "enabled", "last_called_at"]
    list_filter = ["enabled"]
    search_fields = ["id", "user__email", "graph__id"]
    # The secret never shows: owners rotate it through the API.
    exclude = ["secret_encrypted"]
    readonly_fields = ["user", "graph", "graph_version", "preset", "created_at", "last_called_at"]


@admin.register(WebhookCall)
class WebhookCallAdmin(admin.ModelAdmin):
    list_display = ["webhook", "received_at", "status_code", "execution"]
    list_filter = ["status_code"]
    readonly_fields = ["webhook", "received_at", "status_code", "execution", "error"]
