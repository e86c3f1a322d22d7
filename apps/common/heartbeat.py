"""Worker liveness: each Celery worker records a heartbeat in Redis; readiness reads the newest."""

import time

from apps.common.redis import get_redis

HEARTBEATS_KEY = "autogpt:worker-heartbeats"


def worker_heartbeat_record(*, hostname: str) -> None:
    client = get_redis()
    now = time.time()
    pipe = client.pipeline()
    pipe.zadd(HEARTBEATS_KEY, {hostname: now})
    # Forget workers silent for a day so the set cannot grow without bound.
    pipe.zremrangebyscore(HEARTBEATS_KEY, "-inf", now - 86_400)
    pipe.execute()


def worker_heartbeat_latest() -> float | None:
    """Seconds since the epoch of the most recent heartbeat of any worker, or None."""
    newest = get_redis().zrevrange(HEARTBEATS_KEY, 0, 0, withscores=True)
    # redis-py's type does not follow withscores=True: each entry is (member, score).
    return newest[0][1] if newest else None  # type: ignore[return-value]
