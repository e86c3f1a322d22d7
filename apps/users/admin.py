from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.users.models import NOTIFICATION_PREFERENCES, APIKey, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["email", "name", "timezone", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "timezone", "metadata"]}),
        (
            "Notifications",
            {
                "classes": ["collapse"],
                "fields": ["max_emails_per_day", *NOTIFICATION_PREFERENCES],
            },
        ),
        (
            "Access",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "head", "tail", "status", "created_at", "last_used_at"]
    list_filter = ["status"]
    search_fields = ["name", "user__email", "head"]
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "head",
        "tail",
        "key_hash",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    fields = ["name", "user", "status", "permissions", *readonly_fields[1:]]

    def has_add_permission(self, request) -> bool:
        return False
