"""Writes: credentials (encrypted, write-only) and uploaded files (limited, scanned, stored).

Secrets: the API key is encrypted before anything else touches it and is never logged; errors
about a credential name its title or id, never the key.
"""

import hashlib
import json
import logging
import mimetypes
import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from apps.common.exceptions import (
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)
from apps.common.safe_http import HttpRequestError, SafeHttpClient, UnsafeUrlError
from apps.integrations import crypto, selectors
from apps.integrations.clamd import ClamdClient, ScannerUnavailable
from apps.integrations.models import Credential, UploadedFile
from apps.integrations.providers import PROVIDERS, CredentialType
from apps.users.models import User

logger = logging.getLogger(__name__)
API_KEY_MAX_LENGTH = 1000
# Keys travel in HTTP headers: visible ASCII only.
API_KEY_PATTERN = re.compile(r"[\x21-\x7e]+")


class FileInfected(ValidationFailed):
    error_code = "FILE_INFECTED"
    default_message = "The file contains a virus and was not stored."


MAIL_SCHEMES = {"smtp": 25, "smtps": 465, "imap": 143, "imaps": 993}
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
HEADER_VALUE = re.compile(r"[\x20-\x7e]{0,4000}")


def address_check_url(base_url: str) -> str:
    """The http(s) URL whose host and port the public-address rule checks: mail servers
    (smtp[s]://, imap[s]://) are held to the same rule as HTTP ones."""
    parts = urlsplit(base_url)
    if parts.scheme in MAIL_SCHEMES:
        return f"http://{parts.hostname or ''}:{parts.port or MAIL_SCHEMES[parts.scheme]}/"
    return base_url


def check_base_url(base_url: str) -> None:
    """A user's base URL must be http(s) (or a mail server's) and reach a public address,
    unless its host is in BLOCK_HTTP_ALLOWED_HOSTS (the same rule as the HTTP blocks); checked
    again at every call."""
    checker = SafeHttpClient(allowed_hosts=settings.BLOCK_HTTP_ALLOWED_HOSTS)
    try:
        checker.checked_destination(address_check_url(base_url))
    except (UnsafeUrlError, HttpRequestError) as exc:
        raise ValidationFailed(str(exc), details={"fields": {"base_url": str(exc)}}) from None


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": {field: message}})


def _checked_secret(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > API_KEY_MAX_LENGTH or not API_KEY_PATTERN.fullmatch(value):
        raise _invalid(
            field,
            f"The {field.replace('_', ' ')} must be 1 to {API_KEY_MAX_LENGTH} visible ASCII"
            " characters, without spaces (it is sent in a header or a login).",
        )
    return value


def _checked_headers(headers: Any) -> dict[str, str]:
    if not isinstance(headers, dict) or not headers or len(headers) > 20:
        raise _invalid("headers", "Give 1 to 20 headers as an object of names to values.")
    for name, value in headers.items():
        if not HEADER_NAME.fullmatch(str(name)) or not HEADER_VALUE.fullmatch(str(value)):
            raise _invalid("headers", f"The header {str(name)[:100]!r} is not a valid header.")
    return {str(name): str(value) for name, value in headers.items()}


def credential_create(
    *,
    user: User,
    provider: str,
    title: str = "",
    credential_type: str = CredentialType.API_KEY,
    api_key: str = "",
    username: str = "",
    password: str = "",
    headers: dict[str, str] | None = None,
    base_url: str = "",
) -> Credential:
    """Store a credential of one of the provider's types; secrets are kept only as Fernet
    tokens. OAuth2 credentials are made by the consent flow (oauth.py), not here."""
    if provider not in PROVIDERS:
        raise ValidationFailed(
            f"Unknown provider {provider!r}; one of: {', '.join(sorted(PROVIDERS))}."
        )
    spec = PROVIDERS[provider]
    if credential_type == CredentialType.OAUTH2:
        raise _invalid(
            "credential_type", "OAuth2 credentials are created by connecting to the provider."
        )
    if not spec.accepts(credential_type):
        accepted = ", ".join(spec.credential_types)
        raise _invalid(
            "credential_type",
            f"{spec.title} takes {accepted} credentials, not {credential_type!r}.",
        )
    extra: dict[str, Any] = {}
    secret = ""
    if credential_type == CredentialType.API_KEY:
        secret = _checked_secret(api_key, "api_key")
    elif credential_type == CredentialType.USER_PASSWORD:
        username = username.strip()
        if not username or len(username) > 255:
            raise _invalid("username", "A username of 1 to 255 characters is needed.")
        secret = _checked_secret(password, "password")
    elif credential_type == CredentialType.HOST_HEADERS:
        extra["headers"] = _checked_headers(headers)
    base_url = base_url.strip().rstrip("/")
    needs_server = credential_type in (CredentialType.HOST_HEADERS, CredentialType.USER_PASSWORD)
    if needs_server and not base_url and not spec.default_base_url:
        raise _invalid("base_url", f"{spec.title} needs the server's base URL.")
    if base_url:
        check_base_url(base_url)
    credential = Credential.objects.create(
        user=user,
        provider=provider,
        credential_type=credential_type,
        title=title.strip() or spec.title,
        username=username if credential_type == CredentialType.USER_PASSWORD else "",
        encrypted_api_key=crypto.encrypt(secret) if secret else "",
        encrypted_extra=crypto.encrypt(json.dumps(extra)) if extra else "",
        base_url=base_url,
    )
    logger.info(
        "credential %s (%s, %s) stored for user %s",
        credential.pk,
        provider,
        credential_type,
        user.pk,
    )
    return credential


def credential_delete(*, user: User, credential_id: uuid.UUID | str) -> None:
    selectors.credential_get(user=user, credential_id=credential_id).delete()


def credentials_rotate() -> int:
    """Encrypt every stored key again under the newest ENCRYPTION_KEY; how many were."""
    count = 0
    rows = Credential.objects.only("pk", "encrypted_api_key", "encrypted_extra")
    for credential in rows.iterator():
        Credential.objects.filter(pk=credential.pk).update(
            encrypted_api_key=_rotated(credential.encrypted_api_key),
            encrypted_extra=_rotated(credential.encrypted_extra),
        )
        count += 1
    return count


def _rotated(token: str) -> str:
    return crypto.rotate(token) if token else token


# --- files ---------------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "file"
    return cleaned[-100:]


def _content_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    allowed = settings.FILE_UPLOAD_ALLOWED_TYPES
    if guessed is None or guessed not in allowed:
        raise ValidationFailed(
            f"Files of type {guessed or 'unknown'} ({name}) are not accepted; "
            f"allowed: {', '.join(allowed)}.",
            details={"fields": {"file": "type not allowed"}},
        )
    return guessed


def _scan(upload: Any) -> None:
    if not settings.CLAMAV_HOST:
        return
    client = ClamdClient(
        host=settings.CLAMAV_HOST,
        port=settings.CLAMAV_PORT,
        timeout=settings.CLAMAV_TIMEOUT_SECONDS,
    )
    upload.seek(0)
    try:
        result = client.scan(upload.chunks())
    except ScannerUnavailable as exc:
        logger.error("virus scan failed: %s", exc)
        raise ServiceUnavailable(
            "The virus scanner is unavailable, so the file was not accepted; try again later."
        ) from None
    if result.infected:
        logger.warning("refused an infected upload (%s)", result.signature)
        raise FileInfected(
            f"The file contains a virus ({result.signature}) and was not stored.",
            details={"signature": result.signature},
        )


def file_upload(*, user: User, upload: Any, expires_in_hours: int | None = None) -> UploadedFile:
    """Check size and type, scan (when CLAMAV_HOST is set), then store. An infected file or a
    failed scan stores nothing."""
    if upload.size > settings.FILE_UPLOAD_MAX_BYTES:
        raise PayloadTooLarge(
            f"The file is {upload.size} bytes; the limit is {settings.FILE_UPLOAD_MAX_BYTES}.",
            details={"max_bytes": settings.FILE_UPLOAD_MAX_BYTES},
        )
    name = upload.name or "file"
    content_type = _content_type(name)
    _scan(upload)
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    hours = expires_in_hours or settings.FILE_UPLOAD_EXPIRY_HOURS
    file_id = uuid.uuid4()
    storage = storages[selectors.STORAGE_ALIAS]
    upload.seek(0)
    stored_name = storage.save(f"{user.pk}/{file_id}/{_safe_name(name)}", File(upload))
    try:
        with transaction.atomic():
            return UploadedFile.objects.create(
                id=file_id,
                user=user,
                name=name[:255],
                content_type=content_type,
                size=upload.size,
                sha256=digest.hexdigest(),
                storage_name=stored_name,
                expires_at=timezone.now() + timedelta(hours=hours),
            )
    except Exception:
        storage.delete(stored_name)
        raise


def file_delete(*, user: User, file_id: uuid.UUID | str) -> None:
    row = selectors.file_get(user_id=user.pk, file_id=file_id)
    storages[selectors.STORAGE_ALIAS].delete(row.storage_name)
    row.delete()


def files_delete_expired() -> int:
    """Remove expired files from the storage and the database; how many. Idempotent."""
    storage = storages[selectors.STORAGE_ALIAS]
    expired = UploadedFile.objects.filter(expires_at__lte=timezone.now())
    count = 0
    for row in expired.iterator():
        storage.delete(row.storage_name)
        row.delete()
        count += 1
    return count
