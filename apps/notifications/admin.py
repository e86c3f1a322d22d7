from django.contrib import admin
from django.http import HttpRequest

from apps.notifications.models import EmailDelivery, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "type", "user", "email_status", "read_at", "created_at"]
    list_filter = ["type", "email_status"]
    search_fields = ["title", "user__email"]
    list_select_related = ["user"]
    readonly_fields = [
        "user", "type", "title", "message", "data", "dedupe_key", "email_status", "read_at",
        "created_at",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    list_display = ["subject", "kind", "user", "created_at"]
    list_filter = ["kind"]
    search_fields = ["subject", "user__email"]
    readonly_fields = ["user", "kind", "subject", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
