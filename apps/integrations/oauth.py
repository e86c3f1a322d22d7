"""OAuth2 credentials (SPEC §16): authorization code with PKCE, a signed single-use state, tokens
encrypted at rest, refresh before expiry and once on a 401, and `needs_reauth` (with the owner
told, through the `credential_needs_reauth` signal) when a refresh fails.

Authlib speaks the protocol (authorization URL, S256 challenge, token and refresh requests);
this module keeps the state, the tokens and the credential's status.
"""

import json
import logging
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from apps.common.exceptions import ValidationFailed
from apps.integrations import crypto, providers, selectors, signals
from apps.integrations.models import Credential, OAuthState
from apps.integrations.providers import PROVIDERS, CredentialType
from apps.integrations.selectors import CredentialUnusable, ResolvedCredential
from apps.integrations.services import check_base_url
from apps.users.models import User

logger = logging.getLogger(__name__)
STATE_SALT = "integrations.oauth2.state"
TOKEN_TIMEOUT_SECONDS = 20


class OAuthFailed(ValidationFailed):
    error_code = "OAUTH_FAILED"
    default_message = "The provider did not grant access."


def _client(
    provider: str, redirect_uri: str = ""
) -> tuple[OAuth2Client, providers.OAuth2Endpoints]:
    endpoints = providers.oauth_endpoints(provider)
    client = providers.oauth_client(provider)
    if endpoints is None or client is None:
        raise ValidationFailed(
            f"{PROVIDERS[provider].title} cannot be connected: the operator has not configured "
            f"its OAuth2 client (OAUTH_{provider.upper()}_CLIENT_ID / _CLIENT_SECRET)."
        )
    session = OAuth2Client(
        client_id=client[0],
        client_secret=client[1],
        scope=" ".join(endpoints.scopes) or None,
        redirect_uri=redirect_uri or None,
        code_challenge_method="S256",
        timeout=TOKEN_TIMEOUT_SECONDS,
        trust_env=False,
    )
    return session, endpoints


def oauth2_authorize_start(
    *,
    user: User,
    provider: str,
    redirect_uri: str,
    title: str = "",
    credential_id: str | None = None,
    base_url: str = "",
) -> str:
    """The provider's consent URL for `user`: a fresh PKCE verifier and a state good once for
    OAUTH_STATE_MAX_AGE_SECONDS. With `credential_id`, the consent renews that credential;
    `base_url` is the API root of a self-hosted or enterprise server."""
    if provider not in PROVIDERS or not PROVIDERS[provider].accepts(CredentialType.OAUTH2):
        raise ValidationFailed(f"{provider!r} is not a provider that connects with OAuth2.")
    credential = None
    if credential_id:
        credential = selectors.credential_get(user=user, credential_id=credential_id)
        if credential.provider != provider or credential.credential_type != CredentialType.OAUTH2:
            raise ValidationFailed("Only an OAuth2 credential of this provider can be renewed.")
    base_url = base_url.strip().rstrip("/")
    if base_url:
        check_base_url(base_url)
    session, endpoints = _client(provider, redirect_uri)
    verifier = generate_token(64)
    row = OAuthState.objects.create(
        user=user,
        provider=provider,
        title=title.strip()[:100],
        base_url=base_url,
        encrypted_verifier=crypto.encrypt(verifier),
        redirect_uri=redirect_uri,
        credential=credential,
    )
    state = signing.dumps(str(row.pk), salt=STATE_SALT)
    url, _ = session.create_authorization_url(
        endpoints.authorize_url, state=state, code_verifier=verifier
    )
    if endpoints.authorize_params:
        url += "&" + urlencode(endpoints.authorize_params)
    return url


def _consume_state(*, user: User, state: str) -> OAuthState:
    """The state's row, deleted: a second callback with the same state finds nothing."""
    try:
        state_id = signing.loads(
            state, salt=STATE_SALT, max_age=settings.OAUTH_STATE_MAX_AGE_SECONDS
        )
    except signing.SignatureExpired:
        raise OAuthFailed("The connection request expired; start it again.") from None
    except signing.BadSignature:
        raise OAuthFailed("The connection request is not valid.") from None
    with transaction.atomic():
        row = (
            OAuthState.objects.select_for_update().filter(pk=uuid.UUID(state_id), user=user).first()
        )
        if row is None:
            raise OAuthFailed("The connection request was already used or is not yours.")
        row.delete()
    return row


def _token_fields(token: dict[str, Any], *, previous_refresh: str = "") -> dict[str, Any]:
    """Credential columns for a token answer; a refresh answer may omit the refresh token."""
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise OAuthFailed("The provider answered without an access token.")
    refresh = token.get("refresh_token") or previous_refresh
    expires_in = token.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and expires_in > 0:
        expires_at = timezone.now() + timedelta(seconds=float(expires_in))
    scope = token.get("scope") or ""
    scopes = scope.replace(",", " ").split() if isinstance(scope, str) else []
    return {
        "encrypted_api_key": crypto.encrypt(access),
        "encrypted_extra": crypto.encrypt(json.dumps({"refresh_token": refresh})),
        "expires_at": expires_at,
        "scopes": scopes,
        "status": Credential.Status.ACTIVE,
    }


def oauth2_callback(*, user: User, state: str, code: str, error: str = "") -> Credential:
    """The provider sent the user back: check the state, trade the code (with the verifier)
    for tokens, store them encrypted. A denial or a bad answer is OAuthFailed."""
    row = _consume_state(user=user, state=state)
    if error:
        raise OAuthFailed(f"{PROVIDERS[row.provider].title} did not grant access: {error[:200]}.")
    if not code:
        raise OAuthFailed("The provider sent no authorization code.")
    session, endpoints = _client(row.provider, row.redirect_uri)
    try:
        token = session.fetch_token(
            endpoints.token_url,
            code=code,
            code_verifier=crypto.decrypt(row.encrypted_verifier),
            grant_type="authorization_code",
        )
    except (OAuthError, ValueError, OSError) as exc:
        logger.warning("OAuth2 code exchange with %s failed: %s", row.provider, exc)
        raise OAuthFailed(
            f"{PROVIDERS[row.provider].title} refused the authorization code ({_cause(exc)})."
        ) from None
    fields = _token_fields(dict(token))
    if row.credential_id:
        Credential.objects.filter(pk=row.credential_id).update(**fields, updated_at=timezone.now())
        return Credential.objects.get(pk=row.credential_id)
    return Credential.objects.create(
        user=user,
        provider=row.provider,
        credential_type=CredentialType.OAUTH2,
        title=row.title or PROVIDERS[row.provider].title,
        base_url=row.base_url,
        **fields,
    )


def _cause(exc: Exception) -> str:
    """The provider's error code and description (RFC 6749 §5.2), never a token."""
    code, description = getattr(exc, "error", ""), getattr(exc, "description", "")
    text = f"{code}: {description}" if code and description else str(code or exc)
    return text[:200] or type(exc).__name__


def oauth2_refresh(*, credential_id: str) -> ResolvedCredential:
    """New tokens for an OAuth2 credential, under a row lock so concurrent nodes refresh once.
    A failed refresh marks it `needs_reauth`, tells its owner and raises CredentialUnusable."""
    with transaction.atomic():
        row = Credential.objects.select_for_update().get(pk=credential_id)
        if row.status == Credential.Status.NEEDS_REAUTH:
            raise CredentialUnusable(_reauth_message(row))
        extra = json.loads(crypto.decrypt(row.encrypted_extra)) if row.encrypted_extra else {}
        refresh_token = extra.get("refresh_token") or ""
        reason = "no refresh token was granted"
        if refresh_token:
            try:
                session, endpoints = _client(row.provider)
                token = session.refresh_token(endpoints.token_url, refresh_token=refresh_token)
                fields = _token_fields(dict(token), previous_refresh=refresh_token)
            except (OAuthError, ValidationFailed, ValueError, OSError) as exc:
                reason = _cause(exc)
            else:
                for name, value in fields.items():
                    setattr(row, name, value)
                row.save(update_fields=[*fields, "updated_at"])
                return selectors.resolved_from_row(row)
        row.status = Credential.Status.NEEDS_REAUTH
        row.save(update_fields=["status", "updated_at"])
        logger.warning("OAuth2 credential %s (%s) needs re-auth: %s", row.pk, row.provider, reason)
        transaction.on_commit(
            lambda: signals.credential_needs_reauth.send(
                Credential,
                user_id=row.user_id,
                credential_id=row.pk,
                provider=row.provider,
                title=row.title,
                reason=reason,
            )
        )
    raise CredentialUnusable(_reauth_message(row))


def _reauth_message(row: Credential) -> str:
    return (
        f"The credential “{row.title}” ({row.provider}) needs to be connected again: its access "
        "could not be renewed."
    )


def oauth2_fresh(resolved: ResolvedCredential) -> ResolvedCredential:
    """`resolved`, refreshed first when its access token expires within
    OAUTH_REFRESH_MARGIN_SECONDS (SPEC §16: refresh before expiry)."""
    if resolved.credential_type != CredentialType.OAUTH2 or resolved.id is None:
        return resolved
    margin = timedelta(seconds=settings.OAUTH_REFRESH_MARGIN_SECONDS)
    if resolved.expires_at is None or resolved.expires_at - margin > timezone.now():
        return resolved
    return oauth2_refresh(credential_id=resolved.id)


def oauth_states_delete_expired() -> int:
    """States never called back (the user closed the consent page); how many were removed."""
    cutoff = timezone.now() - timedelta(seconds=settings.OAUTH_STATE_MAX_AGE_SECONDS)
    deleted, _ = OAuthState.objects.filter(created_at__lt=cutoff).delete()
    return deleted
