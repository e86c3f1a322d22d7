"""drain_poller: a run asks Redis about its worker's drain once per poll period, the first time
one period after it started (most runs end sooner and never ask)."""

import os
import time

from apps.common.redis import get_redis
from apps.executions import drain


def test_a_drain_past_its_deadline_is_seen_after_one_poll_period(monkeypatch) -> None:
    monkeypatch.setattr(drain, "DRAIN_POLL_SECONDS", 0.2)
    redis = get_redis()
    drain.drain_start(grace_seconds=0)  # this process is shutting down, its grace is over
    asked = []
    monkeypatch.setattr(drain, "get_redis", lambda: asked.append(1) or redis)
    try:
        due = drain.drain_poller()
        assert due() is False
        assert asked == []  # not asked within the first period
        time.sleep(0.25)
        assert due() is True
        assert asked == [1]
    finally:
        redis.delete(drain._key(os.getpid()))
