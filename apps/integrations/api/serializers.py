from rest_framework import serializers

from apps.integrations.models import Credential, UploadedFile
from apps.integrations.providers import PROVIDERS


class CredentialSerializer(serializers.ModelSerializer):
    """Never carries the key: secrets are write-only (SPEC §12)."""

    class Meta:
        model = Credential
        fields = ["id", "provider", "title", "base_url", "created_at", "updated_at"]


class CredentialCreateSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=sorted(PROVIDERS))
    title = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    api_key = serializers.CharField(max_length=1000, write_only=True, trim_whitespace=True)
    base_url = serializers.URLField(max_length=500, required=False, default="", allow_blank=True)


class ProviderSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    default_base_url = serializers.CharField()
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
