"""Reads of schedules, always for one user: another user's schedule is NotFound."""

import uuid
from datetime import datetime

from django.db.models import F, QuerySet

from apps.common.exceptions import NotFound
from apps.schedules import cron
from apps.schedules.models import Schedule, ScheduleAttempt
from apps.users.models import User


def _parse(schedule_id: uuid.UUID | str) -> uuid.UUID:
    try:
        return schedule_id if isinstance(schedule_id, uuid.UUID) else uuid.UUID(str(schedule_id))
    except ValueError:
        raise NotFound("Schedule not found.") from None


def schedule_list(*, user: User, graph_id: uuid.UUID | str | None = None) -> QuerySet[Schedule]:
    schedules = Schedule.objects.filter(user=user).select_related("periodic_task")
    if graph_id is not None:
        schedules = schedules.filter(graph_id=graph_id)
    return schedules.order_by("-created_at")


def schedule_get(*, user: User, schedule_id: uuid.UUID | str) -> Schedule:
    schedule = schedule_list(user=user).filter(pk=_parse(schedule_id)).first()
    if schedule is None:
        raise NotFound("Schedule not found.")
    return schedule


def schedule_next_run_time(schedule: Schedule, *, after: datetime | None = None) -> datetime | None:
    """When it fires next, in the schedule's time zone; None while it is paused."""
    if not schedule.is_enabled:
        return None
    return cron.next_run_time(schedule.cron, schedule.timezone, after=after)


def schedule_next_run_times(
    schedule: Schedule, *, count: int = 5, after: datetime | None = None
) -> list[datetime]:
    """The next `count` firing times in the schedule's time zone; none while it is paused."""
    if not schedule.is_enabled:
        return []
    return cron.next_run_times(schedule.cron, schedule.timezone, count, after=after)


def schedule_attempt_list(*, schedule: Schedule, limit: int = 20) -> list[ScheduleAttempt]:
    """The firing ledger, newest firing time first; a firing time's repeats after its row."""
    return list(
        schedule.attempts.order_by(F("firing_time").desc(nulls_last=True), "fired_at")[:limit]
    )
