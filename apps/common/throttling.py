"""Rate limits on the shared Redis cache: per user or API key, per IP for anonymous and auth calls.

Rates are read from settings.API_RATE_LIMITS on every request, so they follow the environment
(and test overrides) instead of being frozen at import.
"""

import hashlib

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRateThrottle(SimpleRateThrottle):
    scope: str  # every subclass names its budget in settings.API_RATE_LIMITS

    def get_rate(self) -> str:
        return settings.API_RATE_LIMITS[self.scope]


class PrincipalRateThrottle(_SettingsRateThrottle):
    """One budget per API key, or per user for JWT and session calls; staff too (SPEC §12:
    every user)."""

    scope = "principal"

    def get_cache_key(self, request: Request, view) -> str | None:
        if not request.user.is_authenticated:
            return None
        # An API key carries its own budget (apps.users.models.APIKey.throttle_ident).
        ident = getattr(request.auth, "throttle_ident", None) or f"user:{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(_SettingsRateThrottle):
    scope = "anonymous"

    def get_cache_key(self, request: Request, view) -> str | None:
        if request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthEndpointRateThrottle(_SettingsRateThrottle):
    """A tighter per-IP budget for sign-up and token endpoints (password guessing)."""

    scope = "auth"

    def get_cache_key(self, request: Request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignInAccountRateThrottle(_SettingsRateThrottle):
    """A budget of sign-in attempts per account, whatever the IP: guessing one account's
    password from many addresses. Keyed by a hash of the address the form or body names."""

    scope = "signin_account"
    field = "email"

    def get_cache_key(self, request: Request, view) -> str | None:
        data = getattr(request, "data", None)
        if data is None:  # a plain Django request (the sign-in page)
            data = request.POST
        email = data.get(self.field) if hasattr(data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


def sign_in_throttle_wait(request: HttpRequest, *, field: str) -> float | None:
    """For sign-in forms outside DRF: None when the attempt may go on, else the seconds to wait
    (the per-IP `auth` budget and the per-account one, as the API's token endpoint applies)."""
    account = SignInAccountRateThrottle()
    account.field = field
    waits = []
    for throttle in (AuthEndpointRateThrottle(), account):
        # A Django request, no view: these throttles read only META and POST.
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            waits.append(throttle.wait() or 1.0)
    return max(waits) if waits else None
