"""One Redis client per process for platform state that is not cache (heartbeats, flags, locks)."""

from functools import cache

import redis
from django.conf import settings


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def get_redis() -> redis.Redis:
    return _client(settings.REDIS_URL)
