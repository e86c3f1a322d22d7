"""Readiness checks: each names the part that failed so an operator knows where to look."""

import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from kombu import Connection

from apps.common.heartbeat import worker_heartbeat_latest
from apps.common.redis import get_redis


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    get_redis().ping()


def _check_broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _check_worker() -> None:
    latest = worker_heartbeat_latest()
    allowed = 3 * settings.WORKER_HEARTBEAT_SECONDS
    if latest is None:
        raise RuntimeError("no Celery worker has reported a heartbeat")
    age = time.time() - latest
    if age > allowed:
        raise RuntimeError(f"newest worker heartbeat is {age:.0f} s old (limit {allowed} s)")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "redis": _check_redis,
    "broker": _check_broker,
    "worker": _check_worker,
}


def readiness_report() -> dict[str, dict[str, object]]:
    """Run every check; {name: {"ok": bool, "error"?: str}}. Never raises."""
    report: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            report[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        else:
            report[name] = {"ok": True}
    return report
