import uuid

from django.conf import settings
from django.db import models

from apps.integrations.providers import PROVIDERS


class Credential(models.Model):
    """A user's key for a provider. The key is stored only as a Fernet token (crypto.py) and
    never leaves the platform except in the request to the provider."""

    Provider = models.TextChoices("Provider", [(name, name) for name in PROVIDERS])

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integration_credentials"
    )
    provider = models.CharField(max_length=32, choices=Provider.choices)
    title = models.CharField(max_length=100)
    encrypted_api_key = models.TextField()
    # For OpenAI-compatible servers (a self-hosted vLLM or Ollama); empty: the provider's own.
    base_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "provider", "-created_at"], name="credential_user_prov")
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.provider})"


class UploadedFile(models.Model):
    """A file a user uploaded (virus-scanned when a scanner is configured), kept in the file
    storage under `storage_name` until `expires_at`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploaded_files"
    )
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="file_user_created")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def reference(self) -> str:
        """How a graph refers to the file (a block input)."""
        return f"file:{self.id}"
