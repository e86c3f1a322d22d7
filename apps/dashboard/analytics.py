"""Figures for the charts: an agent's last 30 days for its owner, and the platform's for staff.

Days are the viewer's calendar days. Everything is aggregated by the database; on SQLite, which
has no percentile function, medians are taken in Python over the finished runs' timestamps.
Every series has a value for every day, so a chart never skips a quiet day.
"""

import datetime
import statistics
import uuid
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    F,
    FloatField,
    Func,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from apps.credits.models import CreditTransaction
from apps.executions.models import ExecutionStatus, GraphExecution, NodeExecution
from apps.users.models import User

DAYS = 30
QUEUE_HOURS = 48
SLOWEST_BLOCKS = 10
FAILED = (ExecutionStatus.FAILED, ExecutionStatus.TIMEOUT)
FINISHED = (ExecutionStatus.COMPLETED, *FAILED, ExecutionStatus.CANCELLED)


def _days(tz: ZoneInfo, days: int, today: datetime.date | None) -> list[datetime.date]:
    today = today or timezone.localdate(timezone=tz)
    return [today - datetime.timedelta(days=days - 1 - n) for n in range(days)]


def _since(day: datetime.date, tz: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)


class _Median(Aggregate):
    """PostgreSQL's continuous median (the mean of the two middle values, as
    statistics.median)."""

    function = "percentile_cont"
    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _run_seconds() -> Func:
    return Func(
        F("ended_at") - F("started_at"),
        template="EXTRACT(EPOCH FROM %(expressions)s)",
        output_field=FloatField(),
    )


def _run_figures(median_in_sql: bool) -> dict[str, Any]:
    finished = Q(status__in=FINISHED)
    timed = finished & Q(started_at__isnull=False, ended_at__isnull=False)
    figures: dict[str, Any] = {
        "runs": Count("id"),
        "failed": Count("id", filter=Q(status__in=FAILED)),
        "finished": Count("id", filter=finished),
        "completed": Count("id", filter=Q(status=ExecutionStatus.COMPLETED)),
        "credits": Avg(
            Coalesce(Cast(KeyTextTransform("cost", "stats"), FloatField()), Value(0.0)),
            filter=finished,
        ),
    }
    if median_in_sql:
        figures["median"] = _Median(_run_seconds(), filter=timed)
    return figures


def _figures_of(row: Mapping[str, Any] | None, median: float | None) -> dict[str, Any]:
    row = row or {}
    finished = row.get("finished") or 0
    credits = row.get("credits")
    return {
        "runs": row.get("runs") or 0,
        "failed": row.get("failed") or 0,
        "success_rate": round(row["completed"] / finished, 3) if finished else None,
        "median_seconds": round(median, 3) if median is not None else None,
        "credits_per_run": round(credits, 2) if credits is not None else None,
    }


def _agent_runs(
    user: User, graph_id: uuid.UUID, days: int, today: datetime.date | None
) -> tuple[list[datetime.date], ZoneInfo, QuerySet[GraphExecution]]:
    """(the calendar, the user's zone, their top-level runs of the agent over it)."""
    tz = ZoneInfo(user.timezone)
    calendar = _days(tz, days, today)
    runs = GraphExecution.objects.filter(
        user=user,
        graph_id=graph_id,
        parent__isnull=True,
        is_deleted=False,
        created_at__gte=_since(calendar[0], tz),
    ).order_by()
    return calendar, tz, runs


def _durations(runs: QuerySet[GraphExecution], tz: ZoneInfo) -> dict[datetime.date, list[float]]:
    """The finished runs' durations in seconds by day (one query): the medians where the
    database cannot take them."""
    durations: dict[datetime.date, list[float]] = {}
    timed = runs.filter(
        status__in=FINISHED, started_at__isnull=False, ended_at__isnull=False
    ).annotate(day=TruncDate("created_at", tzinfo=tz))
    for day, started, ended in timed.values_list("day", "started_at", "ended_at"):
        if started is not None and ended is not None:  # as filtered; the stubs can't tell
            durations.setdefault(day, []).append((ended - started).total_seconds())
    return durations


def _median_of_all(durations: dict[datetime.date, list[float]]) -> float | None:
    every = [value for values in durations.values() for value in values]
    return statistics.median(every) if every else None


def agent_daily(
    *, user: User, graph_id: uuid.UUID, days: int = DAYS, today: datetime.date | None = None
) -> dict[str, Any]:
    """The user's top-level runs of one agent per day: runs, failures, success rate (of the
    finished ones), median duration in seconds and credits per run; and the same over the
    whole period.

    Aggregated by the database, two queries whatever the number of runs (PostgreSQL takes the
    medians too; elsewhere they come from one more query of the finished runs' timestamps).
    """
    calendar, tz, runs = _agent_runs(user, graph_id, days, today)
    median_in_sql = connection.vendor == "postgresql"
    figures = _run_figures(median_in_sql)
    by_day: dict[datetime.date, Mapping[str, Any]] = {
        row["day"]: row
        for row in runs.annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(**figures)
    }
    total = runs.aggregate(**figures)
    if median_in_sql:
        medians = {day: row["median"] for day, row in by_day.items()}
        total_median = total["median"]
    else:
        durations = _durations(runs, tz)
        medians = {day: statistics.median(values) for day, values in durations.items()}
        total_median = _median_of_all(durations)
    return {
        "days": [day.isoformat() for day in calendar],
        "series": [_figures_of(by_day.get(day), medians.get(day)) for day in calendar],
        "total": _figures_of(total, total_median),
    }


def agent_total(
    *, user: User, graph_id: uuid.UUID, days: int = DAYS, today: datetime.date | None = None
) -> dict[str, Any]:
    """`agent_daily`'s "total" alone (the agent page's figures): one query on PostgreSQL, two
    elsewhere."""
    _, tz, runs = _agent_runs(user, graph_id, days, today)
    median_in_sql = connection.vendor == "postgresql"
    total = runs.aggregate(**_run_figures(median_in_sql))
    median = total["median"] if median_in_sql else _median_of_all(_durations(runs, tz))
    return _figures_of(total, median)


def platform_daily(
    *, tz_name: str = "UTC", days: int = DAYS, today: datetime.date | None = None
) -> dict[str, Any]:
    """Every user's runs per day (with failures and active users) and credits spent."""
    tz = ZoneInfo(tz_name)
    calendar = _days(tz, days, today)
    since = _since(calendar[0], tz)
    runs: dict[datetime.date, Mapping[str, Any]] = {
        row["day"]: row
        for row in GraphExecution.objects.filter(created_at__gte=since, parent__isnull=True)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(
            runs=Count("id"),
            failed=Count("id", filter=Q(status__in=FAILED)),
            users=Count("user_id", distinct=True),
        )
        .order_by()
    }
    spent = {
        row["day"]: -(row["total"] or 0)
        for row in CreditTransaction.objects.filter(
            is_active=True, type__in=["USAGE", "REFUND"], created_at__gte=since
        )
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    empty = {"runs": 0, "failed": 0, "users": 0}
    return {
        "days": [day.isoformat() for day in calendar],
        "series": [
            {
                **{key: runs.get(day, empty)[key] for key in empty},
                "credits": max(spent.get(day, 0), 0),
            }
            for day in calendar
        ],
    }


def queue_depth(*, hours: int = QUEUE_HOURS, now: datetime.datetime | None = None) -> dict:
    """Runs waiting for a worker now (and running now), and at the top of each of the last
    `hours` hours (a run waits from its creation until it starts; one that never started waits
    until it ended)."""
    now = now or timezone.now()
    top = now.replace(minute=0, second=0, microsecond=0)
    points = [top - datetime.timedelta(hours=hours - 1 - n) for n in range(hours)]
    rows = GraphExecution.objects.filter(
        Q(created_at__gte=points[0] - datetime.timedelta(days=1))
        | Q(status=ExecutionStatus.QUEUED),
        created_at__lte=now,
    ).values_list("created_at", "started_at", "ended_at")
    spans = [(created, started or ended) for created, started, ended in rows]
    return {
        "now": sum(1 for created, left in spans if left is None or left > now),
        "running": GraphExecution.objects.filter(status=ExecutionStatus.RUNNING).count(),
        "hours": [point.isoformat() for point in points],
        "waiting": [
            sum(1 for created, left in spans if created <= point and (left is None or left > point))
            for point in points
        ],
    }


def slowest_blocks(*, days: int = 7, limit: int = SLOWEST_BLOCKS) -> list[dict[str, Any]]:
    """The blocks whose executions took longest on average over the last `days` days."""
    since = timezone.now() - datetime.timedelta(days=days)
    rows = (
        NodeExecution.objects.filter(
            started_at__gte=since, ended_at__isnull=False, started_at__isnull=False
        )
        .values(block_id=F("node__block_id"))
        .annotate(
            executions=Count("id"),
            average=Avg(F("ended_at") - F("started_at")),
            longest=Max(F("ended_at") - F("started_at")),
        )
        .order_by("-average")[:limit]
    )
    return [
        {
            "block_id": row["block_id"],
            "executions": row["executions"],
            "average_seconds": round(_as_seconds(row["average"]), 3),
            "longest_seconds": round(_as_seconds(row["longest"]), 3),
        }
        for row in rows
    ]


def _as_seconds(value: datetime.timedelta | float | int | None) -> float:
    """A duration from the database: a timedelta (PostgreSQL), or microseconds (SQLite)."""
    if value is None:
        return 0.0
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000
