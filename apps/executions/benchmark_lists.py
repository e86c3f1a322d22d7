"""`benchmark --lists`: how fast the list endpoints and pages answer over a large history
(`manage.py seed_history`), and with how many queries.

Measured in-process through Django's test client, so the whole request path runs (middleware,
authentication, throttles, views, serializers, rendering) without a server or a network: the
figures are the server's own time per request. The user is the seeded one (or any given).
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client, override_settings

from apps.executions.benchmark import percentile
from apps.executions.models import GraphExecution, NodeExecution
from apps.executions.selectors import cursor_of
from apps.users.models import User


@dataclass
class ListTiming:
    name: str
    path: str
    status: int
    queries: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "queries": self.queries,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "max_ms": self.max_ms,
        }


def list_paths(user: User) -> list[tuple[str, str]]:
    """(name, path) of every list worth measuring for the user: the API's lists on their first
    and a deep page, a filtered list, a graph's runs, the largest run and its results, and the
    dashboard's runs, agents and agent pages."""
    runs = GraphExecution.objects.filter(user=user, is_deleted=False)
    total = runs.count()
    busiest = (
        runs.values("graph_id")
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("graph_id", flat=True)
        .first()
    )
    biggest = (  # once per benchmark: a grouped count over every node execution of the user
        NodeExecution.objects.filter(graph_execution__user=user)
        .values("graph_execution_id")
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("graph_execution_id", flat=True)
        .first()
    )
    deep = max(1, total // 40)  # page 2,500 of 20 at 100,000 runs
    middle = runs.order_by("-created_at", "-id")[max(0, (deep - 1) * 20 - 1)]
    deep_cursor = cursor_of(middle)
    paths = [
        ("api executions, page 1", "/api/executions"),
        ("api executions, deep page", f"/api/executions?page={deep}"),
        ("api executions, deep page by cursor", f"/api/executions?cursor={deep_cursor}"),
        ("api executions, status=failed", "/api/executions?status=failed"),
        ("api graphs with statistics", "/api/graphs"),
    ]
    if busiest:
        paths.append(("api a graph's executions", f"/api/graphs/{busiest}/executions"))
    if biggest:
        paths += [
            ("api the largest run", f"/api/executions/{biggest}"),
            ("api the largest run's results", f"/api/executions/{biggest}/results"),
        ]
    paths += [
        ("page runs", "/runs"),
        ("page runs, deep page", f"/runs?page={max(1, total // 100)}"),
        ("page agents", "/agents"),
    ]
    if busiest:
        paths.append(("page an agent", f"/agents/{busiest}"))
        paths.append(("api an agent's 30 days", f"/agents/{busiest}/analytics.json"))
    return paths


class _QueryCounter:
    """Counts the queries of a request (a wrapper outlives the connection being closed and
    reopened between requests, which empties Django's own query log)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def measure_lists(
    *, user: User, repeats: int = 20, log: Callable[[str], None] = lambda text: None
) -> list[ListTiming]:
    client = Client()
    client.force_login(user)
    host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h), "localhost")
    http_host = host.lstrip(".") or "localhost"
    limits = {**settings.API_RATE_LIMITS, "principal": "1000000/minute"}
    timings = []
    with override_settings(API_RATE_LIMITS=limits):
        for name, path in list_paths(user):
            client.get(path, secure=True, HTTP_HOST=http_host)  # warm: connection, caches, plans
            counter = _QueryCounter()
            with connection.execute_wrapper(counter):
                response = client.get(path, secure=True, HTTP_HOST=http_host)
            elapsed = []
            for _ in range(repeats):
                started = time.perf_counter()
                client.get(path, secure=True, HTTP_HOST=http_host)
                elapsed.append((time.perf_counter() - started) * 1000)
            timing = ListTiming(
                name=name,
                path=path,
                status=response.status_code,
                queries=counter.count,
                p50_ms=round(statistics.median(elapsed), 1),
                p95_ms=round(percentile(elapsed, 0.95), 1),
                max_ms=round(max(elapsed), 1),
            )
            log(f"{name}: p50 {timing.p50_ms} ms, p95 {timing.p95_ms} ms, {timing.queries} q")
            timings.append(timing)
    return timings
