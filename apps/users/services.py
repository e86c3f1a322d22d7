"""Writes for users and API keys. Views call these; they validate, change state, and return."""

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.common.exceptions import Conflict, ValidationFailed
from apps.common.json_limits import check_json_limits
from apps.common.rows import Columns
from apps.users.models import NOTIFICATION_PREFERENCES, APIKey, User, validate_timezone
from apps.users.signals import users_deleting

API_KEY_PREFIX = "agpt_"
# last_used_at is written at most once per this interval per key, not on every request.
API_KEY_LAST_USED_RESOLUTION = timedelta(seconds=60)
USER_EDITABLE_FIELDS = (
    "name",
    "timezone",
    "metadata",
    "max_emails_per_day",
    *NOTIFICATION_PREFERENCES,
)


def _check_timezone(value: str) -> None:
    try:
        validate_timezone(value)
    except ValidationError as exc:
        raise ValidationFailed(
            exc.messages[0], details={"fields": {"timezone": exc.messages}}
        ) from None


def user_register(*, email: str, password: str, name: str = "", timezone_name: str = "UTC") -> User:
    """Create an account. A taken email (any letter case) is a Conflict; weak passwords fail."""
    email = User.objects.normalize_email(email).lower()
    _check_timezone(timezone_name)
    try:
        validate_password(password, User(email=email, name=name))
    except ValidationError as exc:
        raise ValidationFailed(
            " ".join(exc.messages), details={"fields": {"password": exc.messages}}
        ) from None
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("An account with this email address already exists.")
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, name=name, timezone=timezone_name)
    except IntegrityError:
        # Two sign-ups with one address raced past the check above.
        raise Conflict("An account with this email address already exists.") from None


@transaction.atomic
def user_update(*, user: User, **fields: Any) -> User:
    """Update profile, timezone, metadata and notification preferences (unknown keys refused)."""
    unknown = set(fields) - set(USER_EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"Cannot change {', '.join(sorted(unknown))}.")
    if "timezone" in fields:
        _check_timezone(fields["timezone"])
    if "metadata" in fields:
        check_json_limits(fields["metadata"], max_depth=10, max_items=1000, what="metadata")
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=[*fields])
    return user


@transaction.atomic
def users_delete(*, user_ids: list[Any]) -> int:
    """Delete users and everything that is theirs; answers how many went. The layers above
    first make sure nothing they keep under them changes meanwhile (`users_deleting`:
    executions lock the users' runs and balances, which a running run's next step or charge
    then waits for), so the deletion does not fail at COMMIT on rows written after it
    collected."""
    users_deleting.send(sender=None, user_ids=list(user_ids))
    _, by_model = User.objects.filter(pk__in=user_ids).delete()
    return by_model.get(User._meta.label, 0)


def _hash_key(plain_key: str) -> str:
    """The stored form of a key: HMAC-SHA256 keyed with the pepper from settings."""
    pepper = settings.API_KEY_PEPPER.encode()
    return hmac.new(pepper, plain_key.encode(), hashlib.sha256).hexdigest()


def _legacy_hash(plain_key: str) -> str:
    """How keys were stored before the pepper (unkeyed SHA-256)."""
    return hashlib.sha256(plain_key.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, user: User, name: str, permissions: list[str]) -> tuple[APIKey, str]:
    """Create a key and return it with its plain text, which is never stored nor shown again."""
    plain_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = APIKey.objects.create(
        user=user,
        name=name,
        head=plain_key[: len(API_KEY_PREFIX) + 4],
        tail=plain_key[-4:],
        key_hash=_hash_key(plain_key),
        permissions=sorted(set(permissions)),
    )
    return api_key, plain_key


# Plain SQL: this runs on every API-key request, and building the ORM's query (a join with
# select_related) cost twice what running it does. One query for the key and its user, read by
# Columns (apps.common.rows). Values are parameters.
_KEY_COLUMNS, _USER_COLUMNS = Columns(APIKey, "k"), Columns(User, "u")
_ACTIVE_KEY = (
    f"SELECT {_KEY_COLUMNS.sql}, {_USER_COLUMNS.sql} FROM {APIKey._meta.db_table} k"
    f" JOIN {User._meta.db_table} u ON u.id = k.user_id AND u.is_active"
    " WHERE ((k.key_hash = %s AND k.hash_algorithm = %s)"
    " OR (k.key_hash = %s AND k.hash_algorithm = %s))"
    " AND k.status = %s"
)


def api_key_authenticate(*, plain_key: str) -> APIKey | None:
    """The active key of an active user for this plain text, with its user, or None. O(1)
    lookup by hash (one query for both), constant-time compare."""
    if not plain_key.startswith(API_KEY_PREFIX):
        return None
    digest, legacy = _hash_key(plain_key), _legacy_hash(plain_key)
    algorithms = APIKey.HashAlgorithm
    with connection.cursor() as cursor:
        cursor.execute(
            _ACTIVE_KEY,
            [digest, algorithms.HMAC_SHA256, legacy, algorithms.SHA256, APIKey.Status.ACTIVE],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    api_key = _KEY_COLUMNS.read(row[: len(_KEY_COLUMNS)])
    expected = digest if api_key.hash_algorithm == algorithms.HMAC_SHA256 else legacy
    if not hmac.compare_digest(api_key.key_hash, expected):
        return None
    if api_key.hash_algorithm == algorithms.SHA256:
        # The key proved itself: store its keyed hash from now on (guarded: once, if raced).
        APIKey.objects.filter(pk=api_key.pk, hash_algorithm=algorithms.SHA256).update(
            key_hash=digest, hash_algorithm=algorithms.HMAC_SHA256
        )
    api_key.user = _USER_COLUMNS.read(row[len(_KEY_COLUMNS) :])
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= API_KEY_LAST_USED_RESOLUTION:
        # Conditional, so concurrent requests of one key write once per interval at most.
        stale_before = now - API_KEY_LAST_USED_RESOLUTION
        APIKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale_before)
        ).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_key_revoke(*, api_key: APIKey) -> APIKey:
    """Revoking is final; revoking a revoked key changes nothing."""
    APIKey.objects.filter(pk=api_key.pk).exclude(status=APIKey.Status.REVOKED).update(
        status=APIKey.Status.REVOKED, revoked_at=timezone.now()
    )
    api_key.refresh_from_db()
    return api_key


def _api_key_move(*, api_key: APIKey, source: str, target: str) -> APIKey:
    if api_key.status == target:
        return api_key
    updated = APIKey.objects.filter(pk=api_key.pk, status=source).update(status=target)
    if not updated:
        raise Conflict(
            f"This API key is {api_key.status.lower()}; it cannot become {target.lower()}."
        )
    api_key.refresh_from_db()
    return api_key


def api_key_suspend(*, api_key: APIKey) -> APIKey:
    return _api_key_move(
        api_key=api_key, source=APIKey.Status.ACTIVE, target=APIKey.Status.SUSPENDED
    )


def api_key_activate(*, api_key: APIKey) -> APIKey:
    return _api_key_move(
        api_key=api_key, source=APIKey.Status.SUSPENDED, target=APIKey.Status.ACTIVE
    )


def api_key_set_permissions(*, api_key: APIKey, permissions: list[str]) -> APIKey:
    if api_key.status == APIKey.Status.REVOKED:
        raise Conflict("This API key is revoked; its permissions cannot change.")
    api_key.permissions = sorted(set(permissions))
    api_key.save(update_fields=["permissions"])
    return api_key


def user_authenticate_token(*, token: str) -> User | None:
    """The active user a bearer token stands for: an API key or a JWT access token."""
    found = token_authenticate(token=token)
    return found[0] if found else None


def token_authenticate(*, token: str) -> tuple[User, APIKey | None] | None:
    """The active user a bearer token stands for, with the API key when it is one (whose
    permissions then limit what the token may do)."""
    if token.startswith(API_KEY_PREFIX):
        api_key = api_key_authenticate(plain_key=token)
        return (api_key.user, api_key) if api_key else None
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.tokens import AccessToken

    try:
        # simplejwt annotates the encoded token as a Token; it is the string it decodes.
        user_id = AccessToken(token)["user_id"]  # type: ignore[arg-type]
    except (TokenError, KeyError):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return (user, None) if user else None
