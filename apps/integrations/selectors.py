"""Reads: credentials and files, always scoped to their user (another user's is NotFound)."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import storages
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.common.exceptions import NotFound
from apps.integrations import crypto, providers
from apps.integrations.models import Credential, UploadedFile
from apps.users.models import User

FILE_REFERENCE_PREFIX = "file:"
STORAGE_ALIAS = "uploads"  # settings.STORAGES: local disk, or S3 when configured


@dataclass(frozen=True)
class ResolvedCredential:
    """A decrypted credential for one call. `id` None: the platform's own (costs apply)."""

    provider: str
    api_key: str = field(repr=False)
    base_url: str
    title: str
    id: str | None
    trusted: bool  # the base URL was set by the operator, not by a user


def credential_list(*, user: User) -> QuerySet[Credential]:
    return Credential.objects.filter(user=user)


def credential_get(
    *, credential_id: uuid.UUID | str, user: User | None = None, user_id: Any = None
) -> Credential:
    try:
        owner = user.pk if user is not None else user_id
        return Credential.objects.get(user_id=owner, pk=uuid.UUID(str(credential_id)))
    except (ValueError, Credential.DoesNotExist):
        raise NotFound("Credential not found.") from None


def platform_credential(provider: str) -> ResolvedCredential | None:
    api_key = providers.platform_api_key(provider)
    if not api_key:
        return None
    return ResolvedCredential(
        provider=provider,
        api_key=api_key,
        base_url=providers.platform_base_url(provider),
        title="Platform credentials",
        id=None,
        trusted=True,
    )


def credential_resolve(
    *, user_id: uuid.UUID | str, provider: str, credential_id: str | None = None
) -> ResolvedCredential | None:
    """The credential a call to `provider` uses: the one selected (it must be the user's and
    for that provider; else None), else the user's newest, else the platform's, else None."""
    rows = Credential.objects.filter(user_id=user_id, provider=provider)
    if credential_id:
        try:
            row = rows.filter(pk=uuid.UUID(str(credential_id))).first()
        except ValueError:
            row = None
        if row is None:
            return None
    else:
        row = rows.order_by("-created_at").first()
        if row is None:
            return platform_credential(provider)
    return ResolvedCredential(
        provider=provider,
        api_key=crypto.decrypt(row.encrypted_api_key),
        base_url=row.base_url or providers.PROVIDERS[provider].default_base_url,
        title=row.title,
        id=str(row.pk),
        trusted=False,
    )


def file_list(*, user: User) -> QuerySet[UploadedFile]:
    return UploadedFile.objects.filter(user=user).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )


def file_get(*, user_id: uuid.UUID | str, file_id: uuid.UUID | str) -> UploadedFile:
    """A file of the user that has not expired; `file_id` may be a reference (`file:<id>`)."""
    raw = str(file_id).strip().removeprefix(FILE_REFERENCE_PREFIX)
    try:
        row = UploadedFile.objects.get(user_id=user_id, pk=uuid.UUID(raw))
    except (ValueError, UploadedFile.DoesNotExist):
        raise NotFound("File not found.") from None
    if row.expires_at is not None and row.expires_at <= timezone.now():
        raise NotFound("File not found (it expired).")
    return row


def file_content(*, row: UploadedFile) -> bytes:
    with storages[STORAGE_ALIAS].open(row.storage_name, "rb") as handle:
        return handle.read()
