import uuid

from django.conf import settings
from django.db import models

from apps.integrations.providers import CredentialType


class Credential(models.Model):
    """A user's secret for a provider (SPEC §16). Secrets are stored only as Fernet tokens
    (crypto.py) and never leave the platform except in the request to the provider.

    `encrypted_api_key` holds the main secret of every type: the API key, the password of
    `user_password`, the access token of `oauth2`; `encrypted_extra` holds the rest as
    encrypted JSON (the headers of `host_headers`, the refresh token of `oauth2`)."""

    # django-stubs has no overload for the functional Choices API given (name, value) pairs.
    Type = models.TextChoices("Type", [(t.value, t.value) for t in CredentialType])  # type: ignore[call-overload]

    class Status(models.TextChoices):
        ACTIVE = "active"
        NEEDS_REAUTH = "needs_reauth"  # an OAuth2 refresh failed: the user must connect again

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integration_credentials"
    )
    # Checked against providers.PROVIDERS by the services (no choices: adding a provider to the
    # registry needs no migration).
    provider = models.CharField(max_length=32)
    credential_type = models.CharField(max_length=20, choices=Type.choices, default="api_key")
    title = models.CharField(max_length=100)
    username = models.CharField(max_length=255, blank=True)
    encrypted_api_key = models.TextField(blank=True)
    encrypted_extra = models.TextField(blank=True)
    # A self-hosted or enterprise server (an Ollama, a GitHub Enterprise, an SMTP host as
    # smtps://host:465); empty: the provider's own.
    base_url = models.CharField(max_length=500, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # of an OAuth2 access token
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
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


class OAuthState(models.Model):
    """One started OAuth2 consent (SPEC §16): the `state` sent to the provider is this row's id,
    signed with a timestamp; the callback deletes the row, so a state is good once, for
    OAUTH_STATE_MAX_AGE_SECONDS. The PKCE verifier is kept encrypted until then."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=32)
    title = models.CharField(max_length=100, blank=True)
    base_url = models.CharField(max_length=500, blank=True)
    encrypted_verifier = models.TextField()
    redirect_uri = models.CharField(max_length=500)
    # Set when the consent renews an existing credential (needs_reauth), else a new one is made.
    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"OAuth2 consent for {self.provider} ({self.created_at:%Y-%m-%d %H:%M})"
