from typing import Any

from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication

from apps.common.logging import user_context_set
from apps.users.models import APIKey, User
from apps.users.services import API_KEY_PREFIX, api_key_authenticate


def api_key_from_headers(*, authorization: bytes, x_api_key: str | None) -> str | None:
    """The API key a request presents: `X-API-Key: agpt_…` or `Authorization: Bearer agpt_…`."""
    if x_api_key:
        return x_api_key.strip()
    parts = authorization.split()
    if len(parts) == 2 and parts[0].lower() == b"bearer":
        token = parts[1].decode(errors="replace")
        if token.startswith(API_KEY_PREFIX):
            return token
    return None


class _LogsUser:
    """Puts the authenticated user in the log context (SPEC §13: user_id in every line)."""

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        found = super().authenticate(request)  # type: ignore[misc]
        if found is not None:
            user_context_set(found[0])
        return found


class _ApiKeys(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, APIKey] | None:
        plain_key = api_key_from_headers(
            authorization=get_authorization_header(request),
            x_api_key=request.META.get("HTTP_X_API_KEY"),
        )
        if plain_key is None:
            return None
        api_key = api_key_authenticate(plain_key=plain_key)
        if api_key is None:
            raise AuthenticationFailed("The API key is invalid, suspended or revoked.")
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyAuthentication(_LogsUser, _ApiKeys):
    """Authenticates API keys; a Bearer token without the key prefix is left to JWT."""


# simplejwt types authenticate's user with a TypeVar bound by no argument: no override matches it.
class LoggedJWTAuthentication(_LogsUser, JWTAuthentication):  # type: ignore[misc]
    """simplejwt's access tokens, with the user logged."""


class LoggedSessionAuthentication(_LogsUser, SessionAuthentication):
    """The browser session (CSRF-checked), with the user logged."""
