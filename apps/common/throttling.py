"""Rate limits on the shared Redis cache: per user or API key, per IP for anonymous and auth calls.

Rates are read from settings.API_RATE_LIMITS on every request, so they follow the environment
(and test overrides) instead of being frozen at import.
"""

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str:
        return settings.API_RATE_LIMITS[self.scope]


class PrincipalRateThrottle(_SettingsRateThrottle):
    """One budget per API key, or per user for JWT and session calls. Staff (operators, and the
    benchmark command's user) are not limited."""

    scope = "principal"

    def get_cache_key(self, request: Request, view) -> str | None:
        if not request.user.is_authenticated or request.user.is_staff:
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
