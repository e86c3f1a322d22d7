from rest_framework import serializers

from apps.integrations.models import Credential, UploadedFile
from apps.integrations.providers import PROVIDERS, CredentialType


class CredentialSerializer(serializers.ModelSerializer):
    """Never carries the key: secrets are write-only (SPEC §12)."""

    class Meta:
        model = Credential
        fields = [
            "id",
            "provider",
            "credential_type",
            "title",
            "username",
            "base_url",
            "scopes",
            "expires_at",
            "status",
            "created_at",
            "updated_at",
        ]


class CredentialCreateSerializer(serializers.Serializer):
    """One of the provider's types; `oauth2` credentials come from the consent flow instead.
    Secrets (`api_key`, `password`, `headers`) are write-only."""

    provider = serializers.ChoiceField(choices=sorted(PROVIDERS))
    credential_type = serializers.ChoiceField(
        choices=[t.value for t in CredentialType if t != CredentialType.OAUTH2],
        default=CredentialType.API_KEY.value,
    )
    title = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    api_key = serializers.CharField(
        max_length=1000, write_only=True, required=False, default="", allow_blank=True
    )
    username = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    password = serializers.CharField(
        max_length=1000, write_only=True, required=False, default="", allow_blank=True
    )
    headers = serializers.DictField(
        child=serializers.CharField(max_length=4000, allow_blank=True),
        write_only=True,
        required=False,
        default=None,
    )
    base_url = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class OAuthStartSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    credential_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Renew this credential."
    )
    base_url = serializers.CharField(
        max_length=500,
        required=False,
        default="",
        allow_blank=True,
        help_text="The API root of a self-hosted or enterprise server.",
    )


class OAuthStartResponseSerializer(serializers.Serializer):
    authorize_url = serializers.CharField(
        help_text="Send the user's browser here; the provider returns it to the dashboard."
    )


class ProviderSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    default_base_url = serializers.CharField()
    credential_types = serializers.ListField(child=serializers.CharField())
    oauth2_scopes = serializers.ListField(child=serializers.CharField())
    oauth2_available = serializers.BooleanField(
        help_text="The operator configured an OAuth2 client: credentials can be connected."
    )
    platform_credentials = serializers.BooleanField(
        help_text="The platform has its own key for this provider (used, and charged, when "
        "you store none)."
    )


class UploadedFileSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(
        read_only=True, help_text="Give this to a block's file input (e.g. Read File)."
    )

    class Meta:
        model = UploadedFile
        fields = [
            "id",
            "reference",
            "name",
            "content_type",
            "size",
            "sha256",
            "created_at",
            "expires_at",
        ]


class FileUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    expires_in_hours = serializers.IntegerField(
        required=False, min_value=1, max_value=24 * 30, help_text="default FILE_UPLOAD_EXPIRY_HOURS"
    )
