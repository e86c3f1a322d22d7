import uuid
import zoneinfo
from functools import cache
from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as dj_timezone


@cache
def timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in timezone_names():
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/Berlin).")


NOTIFICATION_PREFERENCES = (
    "notify_on_agent_run",
    "notify_on_zero_balance",
    "notify_on_low_balance",
    "notify_on_block_execution_failed",
    "notify_on_continuous_agent_error",
    "notify_on_daily_summary",
    "notify_on_weekly_summary",
    "notify_on_monthly_summary",
    "notify_on_review_requested",  # a run waits for the user's human review (SPEC §15)
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("an email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=100, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    metadata = models.JSONField(default=dict, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=dj_timezone.now)
    # When the owner of the address followed the link mailed to it (apps.users.recovery).
    email_verified_at = models.DateTimeField(null=True, blank=True)

    max_emails_per_day = models.PositiveSmallIntegerField(default=3)
    notify_on_agent_run = models.BooleanField(default=True)
    notify_on_zero_balance = models.BooleanField(default=True)
    notify_on_low_balance = models.BooleanField(default=True)
    notify_on_block_execution_failed = models.BooleanField(default=True)
    notify_on_continuous_agent_error = models.BooleanField(default=True)
    notify_on_daily_summary = models.BooleanField(default=True)
    notify_on_weekly_summary = models.BooleanField(default=True)
    notify_on_monthly_summary = models.BooleanField(default=True)
    notify_on_review_requested = models.BooleanField(default=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@", 1)[0]


class APIKey(models.Model):
    """A programmatic credential. Only a keyed hash of the key is stored (HMAC-SHA256 with
    API_KEY_PEPPER); lookup is by that hash. Keys made before the pepper carry a plain SHA-256
    until their first use rehashes them (`hash_algorithm`)."""

    class HashAlgorithm(models.TextChoices):
        HMAC_SHA256 = "hmac-sha256"
        SHA256 = "sha256"  # before the pepper; rehashed on first successful use

    class Permission(models.TextChoices):
        IDENTITY = "IDENTITY"
        READ_GRAPH = "READ_GRAPH"
        WRITE_GRAPH = "WRITE_GRAPH"
        EXECUTE_GRAPH = "EXECUTE_GRAPH"
        READ_BLOCK = "READ_BLOCK"
        EXECUTE_BLOCK = "EXECUTE_BLOCK"
        READ_STORE = "READ_STORE"
        WRITE_LIBRARY = "WRITE_LIBRARY"
        READ_CREDITS = "READ_CREDITS"
        MANAGE_INTEGRATIONS = "MANAGE_INTEGRATIONS"

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE"
        SUSPENDED = "SUSPENDED"
        REVOKED = "REVOKED"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    head = models.CharField(max_length=16)
    tail = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    hash_algorithm = models.CharField(
        max_length=16, choices=HashAlgorithm.choices, default=HashAlgorithm.HMAC_SHA256
    )
    # A JSON list rather than a PostgreSQL array: the same schema runs on the SQLite default.
    permissions = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.head}…{self.tail})"

    @property
    def throttle_ident(self) -> str:
        return f"key:{self.pk}"

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions
