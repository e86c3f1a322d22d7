"""Figures for the charts: an agent's last 30 days for its owner, and the platform's for staff.

Days are the viewer's calendar days. Counts are aggregated by the database; medians are taken
in Python over one column, since SQLite has no percentile function. Every series has a value
for every day, so a chart never skips a quiet day.
"""

import datetime
import statistics
import uuid
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, F, Max, Q, Sum
from django.db.models.functions import TruncDate
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


def _seconds(started: datetime.datetime | None, ended: datetime.datetime | None) -> float | None:
    return (ended - started).total_seconds() if started and ended else None


def agent_daily(
    *, user: User, graph_id: uuid.UUID, days: int = DAYS, today: datetime.date | None = None
) -> dict[str, Any]:
    """The user's top-level runs of one agent per day: runs, failures, success rate (of the
    finished ones), median duration in seconds and credits per run; and the same over the
    whole period."""
    tz = ZoneInfo(user.timezone)
    calendar = _days(tz, days, today)
    rows = (
        GraphExecution.objects.filter(
            user=user,
            graph_id=graph_id,
            parent__isnull=True,
            is_deleted=False,
            created_at__gte=_since(calendar[0], tz),
        )
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values_list("day", "status", "started_at", "ended_at", "stats")
    )
    by_day: dict[datetime.date, list[tuple]] = {day: [] for day in calendar}
    for day, *rest in rows:
        by_day.setdefault(day, []).append(tuple(rest))

    def figures(runs: list[tuple]) -> dict[str, Any]:
        finished = [run for run in runs if run[0] in FINISHED]
        completed = sum(run[0] == ExecutionStatus.COMPLETED for run in finished)
        durations = [s for run in finished if (s := _seconds(run[1], run[2])) is not None]
        costs = [int((run[3] or {}).get("cost", 0)) for run in finished]
        return {
            "runs": len(runs),
            "failed": sum(run[0] in FAILED for run in runs),
            "success_rate": round(completed / len(finished), 3) if finished else None,
            "median_seconds": round(statistics.median(durations), 3) if durations else None,
            "credits_per_run": round(sum(costs) / len(costs), 2) if costs else None,
        }

    return {
        "days": [day.isoformat() for day in calendar],
        "series": [figures(by_day[day]) for day in calendar],
        "total": figures([run for day in calendar for run in by_day[day]]),
    }


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
