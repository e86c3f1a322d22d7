"""Graceful worker shutdown (SIGTERM): finish what runs within a grace period, hand the rest over.

Celery's warm shutdown already stops taking messages and waits for the running tasks. The main
worker process records a drain deadline in Redis when it starts shutting down
(`worker_shutting_down`, autogpt/celery.py); the engines of its runs (in its own threads, or
in its pool processes with `WORKER_POOL=prefork`) poll it through their `is_abandoned` port.
A run still going at the deadline stops without writing more, gives its lease back and is
enqueued again, so a worker that is still taking messages resumes it at once (its finished
nodes are kept, its running ones run again).
Should the worker die before that, the lease expires and the watchdog does the same.
"""

import os
import socket
import time
from collections.abc import Callable

from django.conf import settings

from apps.common.redis import get_redis

DRAIN_KEY = "autogpt:drain:{}:{}"
# Redis is asked about a drain at most this often per run.
DRAIN_POLL_SECONDS = 0.5


def _key(pid: int) -> str:
    return DRAIN_KEY.format(socket.gethostname(), pid)


def drain_start(*, grace_seconds: float) -> None:
    """Called in the main worker process as its warm shutdown begins."""
    deadline = time.time() + grace_seconds
    ttl = int(grace_seconds + settings.EXECUTION_LEASE_SECONDS + 60)
    get_redis().set(_key(os.getpid()), repr(deadline), ex=ttl)


def drain_poller() -> Callable[[], bool]:
    """True once this process's worker is shutting down and its grace period is over. A
    prefork pool process looks at its parent; a solo or threaded worker at itself."""
    keys = [_key(os.getppid()), _key(os.getpid())]
    # The first look once a poll period has gone by, like every later one: a run that ends
    # sooner (most) never asks, and one that started past the deadline stops within the period,
    # as one that was running then does.
    checked = time.monotonic()
    drained = False

    def due() -> bool:
        nonlocal checked, drained
        now = time.monotonic()
        if not drained and now - checked >= DRAIN_POLL_SECONDS:
            checked = now
            deadlines = [float(value) for value in get_redis().mget(keys) if value is not None]
            drained = any(time.time() >= deadline for deadline in deadlines)
        return drained

    return due
