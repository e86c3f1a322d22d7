from django.contrib import admin

from apps.integrations.models import Credential, UploadedFile


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    """Staff see that a credential exists, never its key."""

    list_display = ["title", "provider", "credential_type", "status", "user", "created_at"]
    list_filter = ["provider", "credential_type", "status"]
    search_fields = ["title", "user__email"]
    fields = readonly_fields = (
        "user",
        "provider",
        "credential_type",
        "status",
        "title",
        "username",
        "base_url",
        "scopes",
        "expires_at",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UploadedFile)
class UploadedFileAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "content_type", "size", "created_at", "expires_at"]
    search_fields = ["name", "user__email", "sha256"]
    readonly_fields = [field.name for field in UploadedFile._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
