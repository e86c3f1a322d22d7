"""Reads: credentials and files, always scoped to their user (another user's is NotFound)."""

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.storage import storages
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.common.exceptions import NotFound
from apps.integrations import crypto, providers
from apps.integrations.models import Credential, UploadedFile
from apps.integrations.providers import CredentialType
from apps.users.models import User

FILE_REFERENCE_PREFIX = "file:"
STORAGE_ALIAS = "uploads"  # settings.STORAGES: local disk, or S3 when configured


class CredentialUnusable(Exception):
    """The credential chosen for a call cannot serve it (another provider, another type, or it
    must be connected again); the message names it by title, never by secret."""


@dataclass(frozen=True)
class ResolvedCredential:
    """A decrypted credential for one call. `id` None: the platform's own (costs apply)."""

    provider: str
    api_key: str = field(repr=False)
    base_url: str
    title: str
    id: str | None
    trusted: bool  # the base URL was set by the operator, not by a user
    credential_type: str = CredentialType.API_KEY
    username: str = ""
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    expires_at: datetime | None = None


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


def credential_mismatch(
    row: Credential, *, provider: str, accepted_types: Iterable[str] | None
) -> str | None:
    """Why `row` cannot serve a block of `provider` taking `accepted_types`, or None."""
    if row.provider != provider:
        return f"The credential “{row.title}” is for {row.provider}, not {provider}."
    accepted = tuple(accepted_types or ())
    if accepted and row.credential_type not in accepted:
        return (
            f"The credential “{row.title}” is of type {row.credential_type}; this block takes "
            f"{', '.join(accepted)}."
        )
    return None


def resolved_from_row(row: Credential) -> ResolvedCredential:
    extra = json.loads(crypto.decrypt(row.encrypted_extra)) if row.encrypted_extra else {}
    return ResolvedCredential(
        provider=row.provider,
        api_key=crypto.decrypt(row.encrypted_api_key) if row.encrypted_api_key else "",
        base_url=row.base_url or providers.PROVIDERS[row.provider].default_base_url,
        title=row.title,
        id=str(row.pk),
        trusted=False,
        credential_type=row.credential_type,
        username=row.username,
        headers=dict(extra.get("headers") or {}),
        expires_at=row.expires_at,
    )


def credential_resolve(
    *,
    user_id: uuid.UUID | str,
    provider: str,
    credential_id: str | None = None,
    accepted_types: Iterable[str] | None = None,
) -> ResolvedCredential | None:
    """The credential a call to `provider` uses: the one selected (it must be the user's, for
    that provider and of an accepted type, and not waiting for re-authorization; else
    CredentialUnusable), else the user's newest usable one, else the platform's, else None."""
    if credential_id:
        try:
            row = Credential.objects.filter(
                user_id=user_id, pk=uuid.UUID(str(credential_id))
            ).first()
        except ValueError:
            row = None
        if row is None:
            raise CredentialUnusable(f"No credential {credential_id} of yours.")
        reason = credential_mismatch(row, provider=provider, accepted_types=accepted_types)
        if reason:
            raise CredentialUnusable(reason)
    else:
        rows = Credential.objects.filter(user_id=user_id, provider=provider)
        if accepted_types:
            rows = rows.filter(credential_type__in=list(accepted_types))
        # An active one first; else one waiting for re-authorization says so (below).
        row = rows.order_by("status", "-created_at").first()  # "active" < "needs_reauth"
        if row is None:
            return platform_credential(provider)
    if row.status == Credential.Status.NEEDS_REAUTH:
        raise CredentialUnusable(
            f"The credential “{row.title}” ({row.provider}) needs to be connected again: its "
            "access could not be renewed."
        )
    return resolved_from_row(row)


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
