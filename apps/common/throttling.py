"""Rate limits on the shared Redis cache: per user or API key, per IP for anonymous and auth calls.

Rates are read from settings.API_RATE_LIMITS on every request, so they follow the environment
(and test overrides) instead of being frozen at import.
"""

import hashlib
import secrets
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.http import HttpRequest
from redis import ConnectionPool, Redis
from redis.commands.core import Script
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:
    from django.core.cache.backends.redis import RedisCache

# DRF's sliding log (every request's time in the window; throttled while the window holds the
# budget), kept as a sorted set in Redis by one script: DRF itself reads and writes the whole
# log as one pickled list on every request, which costs O(budget) per request (thousands of
# timestamps for a raised limit) and loses requests between concurrent read and write.
_SLIDE = """
local key, now, duration, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - duration)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, count, oldest[2]}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, math.ceil(duration * 1000))
return {1, count + 1, '0'}
"""


@cache
def _client(pool: ConnectionPool) -> Redis:
    """One client per connection pool: Django's cache builds a new one on every call (its
    `get_client`), a few percent of the web's time when every request is throttled."""
    return Redis(connection_pool=pool)


@cache
def _slide(pool: ConnectionPool) -> Script:
    """The script, once per connection pool."""
    return _client(pool).register_script(_SLIDE)


class _SettingsRateThrottle(SimpleRateThrottle):
    """DRF's sliding-log throttle, its log in a Redis sorted set (see _SLIDE): the same
    decisions and `wait()`, at O(log n) in Redis and O(1) here."""

    scope: str  # every subclass names its budget in settings.API_RATE_LIMITS
    num_requests: int  # set by SimpleRateThrottle from the rate
    duration: int

    def get_rate(self) -> str:
        return settings.API_RATE_LIMITS[self.scope]

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        # A key of its own: the pickled list DRF kept under self.key is another Redis type.
        key = self.cache.make_and_validate_key(f"{self.key}:log")
        # The cache's own Redis connections (settings.CACHES: django's RedisCache), the pool its
        # get_client() would wrap in a new client.
        cache_client: Any = cast("RedisCache", self.cache)._cache
        pool = cache_client._get_connection_pool(True)
        allowed, count, oldest = _slide(pool)(
            keys=[key],
            args=[repr(self.now), self.duration, self.num_requests, secrets.token_hex(8)],
            client=_client(pool),
        )
        if allowed:
            return True
        # What DRF's wait() reads: the log's length and its oldest entry (the last).
        self.history = [*([self.now] * (int(count) - 1)), float(oldest)]
        return bool(self.throttle_failure())


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
