"""Reads for notifications: a user's list, and the figures of digests and summaries."""

import uuid
from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet, Sum

from apps.common.exceptions import NotFound
from apps.credits.models import CreditTransaction
from apps.executions.models import TERMINAL_STATUSES, ExecutionStatus, GraphExecution
from apps.graphs.models import GraphVersion
from apps.notifications.models import Notification
from apps.notifications.models import NotificationType as T
from apps.users.models import User


def notification_list(*, user: User, unread: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(user=user)
    if unread:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-id")


def notification_get(*, user: User, notification_id: uuid.UUID | str) -> Notification:
    try:
        notification_id = uuid.UUID(str(notification_id))
    except ValueError:
        raise NotFound("Notification not found.") from None
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is None:
        raise NotFound("Notification not found.")
    return notification


def graph_name(*, graph_id: uuid.UUID | str, version: int) -> str:
    names = GraphVersion.objects.filter(graph_id=graph_id, version=version)
    return names.values_list("name", flat=True).first() or ""


def digest_pending_user_ids() -> list[uuid.UUID]:
    pending = Notification.objects.filter(type=T.AGENT_RUN, email_status=Notification.Email.PENDING)
    return list(pending.values_list("user_id", flat=True).distinct())


def digest_groups(notifications: list[Notification]) -> list[dict[str, Any]]:
    """The runs of a digest by agent: name, runs, how many completed, credits, latest first."""
    groups: dict[str, dict[str, Any]] = {}
    for notification in notifications:
        data = notification.data
        group = groups.setdefault(
            data.get("graph_id", ""),
            {"graph_name": data.get("graph_name") or "Untitled agent", "runs": 0,
             "completed": 0, "with_errors": 0, "failed": 0, "cost": 0},
        )  # fmt: skip
        group["runs"] += 1
        group["completed"] += data.get("status") == ExecutionStatus.COMPLETED
        group["with_errors"] += data.get("status") == ExecutionStatus.COMPLETED and bool(
            data.get("node_error_count")
        )
        group["failed"] += data.get("status") != ExecutionStatus.COMPLETED
        group["cost"] += int(data.get("cost") or 0)
    return sorted(groups.values(), key=lambda g: (-g["runs"], g["graph_name"]))


def summary_candidates(*, now: datetime) -> QuerySet[User]:
    """Users with a top-level run in the last 32 days (a month and its time-zone margin)."""
    recent = GraphExecution.objects.filter(
        created_at__gte=now - timedelta(days=32), parent__isnull=True
    ).values("user_id")
    return User.objects.filter(is_active=True, pk__in=recent)


def previous_period(type: str, local_now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the last whole day, ISO week or month before `local_now`, in its zone."""
    zone = local_now.tzinfo
    today = local_now.date()
    if type == T.DAILY_SUMMARY:
        start, end = today - timedelta(days=1), today
    elif type == T.WEEKLY_SUMMARY:
        end = today - timedelta(days=today.weekday())
        start = end - timedelta(days=7)
    else:
        end = today.replace(day=1)
        start = (end - timedelta(days=1)).replace(day=1)
    return datetime.combine(start, time(), zone), datetime.combine(end, time(), zone)


def run_summary(*, user: User, start: datetime, end: datetime) -> dict[str, Any]:
    """Runs, success rate, credits used, top agent and average duration of the user's top-level
    runs that started in [start, end)."""
    runs = list(
        GraphExecution.objects.filter(
            user=user,
            parent__isnull=True,
            created_at__gte=start,
            created_at__lt=end,
            status__in=TERMINAL_STATUSES,
        ).values_list("graph_id", "graph_version", "status", "has_errors", "started_at", "ended_at")
    )
    completed = sum(1 for run in runs if run[2] == ExecutionStatus.COMPLETED)
    # SPEC §17: a run that completed with failed nodes is no success.
    with_errors = sum(1 for run in runs if run[2] == ExecutionStatus.COMPLETED and run[3])
    durations = [(e - s).total_seconds() for *_, s, e in runs if s and e]
    top_agent, top_runs = "", 0
    if runs:
        top_graph, top_runs = Counter(run[0] for run in runs).most_common(1)[0]
        version = max(run[1] for run in runs if run[0] == top_graph)
        top_agent = graph_name(graph_id=top_graph, version=version)
    used = CreditTransaction.objects.filter(
        user=user,
        type=CreditTransaction.Type.USAGE,
        is_active=True,
        created_at__gte=start,
        created_at__lt=end,
    ).aggregate(total=Sum("amount"))["total"]
    return {
        "runs": len(runs),
        "completed": completed,
        "completed_with_errors": with_errors,
        "success_rate": round((completed - with_errors) / len(runs), 4) if runs else 0.0,
        "credits_used": -(used or 0),
        "top_agent": top_agent,
        "top_agent_runs": top_runs,
        "average_duration_seconds": round(sum(durations) / len(durations), 3) if durations else 0,
    }
