"""Writes for schedules: create, update (pause, resume, re-time), delete, fire, and the sync of
the housekeeping beat entries.

A schedule is validated like a run at creation (inputs, graph version, run-time graph rules:
400 with `node_errors`), but its credits only when it fires: a firing that cannot start a run
records a failed attempt and tells the user (`schedule_attempt_failed`) instead of raising.
"""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone as django_timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.common.exceptions import PlatformError, ValidationFailed
from apps.common.logging import user_context_set
from apps.executions.services import graph_execution_start
from apps.graphs.selectors import runnable_version
from apps.schedules import cron as cron_rules
from apps.schedules import selectors, signals
from apps.schedules.models import Schedule, ScheduleAttempt
from apps.users.models import User

FIRE_TASK = "schedules.fire"
HOUSEKEEPING = "Housekeeping, declared in settings.HOUSEKEEPING_SCHEDULE"
# A long outage of beat records at most this many missed firing times (the latest ones).
MISSED_RECORDED = 50


def _task_name(schedule_id: uuid.UUID) -> str:
    return f"schedule:{schedule_id}"


def _crontab(cron: str, tz_name: str) -> CrontabSchedule:
    fields = cron_rules.cron_fields(cron)
    crontab, _ = CrontabSchedule.objects.get_or_create(timezone=tz_name, **fields)
    return crontab


@transaction.atomic
def schedule_create(
    *,
    user: User,
    graph_id: uuid.UUID | str,
    name: str,
    cron: str,
    graph_version: int | None = None,
    timezone: str | None = None,
    inputs: dict[str, Any] | None = None,
    credentials_inputs: dict[str, Any] | None = None,
    catch_up: str = Schedule.CatchUp.SKIP,
) -> Schedule:
    """Validate like a run start (400, `node_errors`), then store the schedule with its beat
    entry. The time zone is the request's, else the user's. The version is pinned now."""
    tz_name = timezone or user.timezone or "UTC"
    cron_rules.check_timezone(tz_name)
    _check_catch_up(catch_up)
    crontab = _crontab(cron, tz_name)
    inputs, credentials_inputs = dict(inputs or {}), dict(credentials_inputs or {})
    runnable = runnable_version(
        user=user,
        graph_id=graph_id,
        version=graph_version,
        inputs=inputs,
        credentials_inputs=credentials_inputs,
    )
    schedule_id = uuid.uuid4()
    periodic_task = PeriodicTask.objects.create(
        name=_task_name(schedule_id),
        task=FIRE_TASK,
        crontab=crontab,
        kwargs=json.dumps({"schedule_id": str(schedule_id)}),
        queue="default",
        description=f"Agent schedule {name!r} of {user.email}",
    )
    return Schedule.objects.create(
        id=schedule_id,
        user=user,
        graph_id=runnable.graph_id,
        graph_version=runnable.version,
        name=name,
        cron=" ".join(cron.split()),
        timezone=tz_name,
        inputs=inputs,
        credentials_inputs=credentials_inputs,
        periodic_task=periodic_task,
        catch_up=catch_up,
        fires_from=django_timezone.now(),
    )


def _check_catch_up(catch_up: str) -> None:
    if catch_up not in Schedule.CatchUp.values:
        raise ValidationFailed(
            f"catch_up must be one of {', '.join(Schedule.CatchUp.values)}.",
            details={"fields": {"catch_up": catch_up}},
        )


@transaction.atomic
def schedule_update(
    *,
    schedule: Schedule,
    name: str | None = None,
    cron: str | None = None,
    timezone: str | None = None,
    is_enabled: bool | None = None,
    catch_up: str | None = None,
) -> Schedule:
    """Rename, re-time (cron and/or time zone) or pause/resume a schedule. Beat sees the change
    at its next check (django-celery-beat records every PeriodicTask save)."""
    task = PeriodicTask.objects.select_for_update().get(pk=schedule.periodic_task_id)
    if catch_up is not None:
        _check_catch_up(catch_up)
        schedule.catch_up = catch_up
    if (is_enabled and not task.enabled) or timezone is not None or cron is not None:
        # Firing times while paused, or of the old timing, are not owed (nor "missed").
        schedule.fires_from = django_timezone.now()
    if timezone is not None or cron is not None:
        tz_name = timezone if timezone is not None else schedule.timezone
        cron_rules.check_timezone(tz_name)
        task.crontab = _crontab(cron if cron is not None else schedule.cron, tz_name)
        schedule.timezone = tz_name
        if cron is not None:
            schedule.cron = " ".join(cron.split())
    if name is not None:
        schedule.name = name
    if is_enabled is not None:
        task.enabled = is_enabled
    task.save()
    schedule.periodic_task = task
    schedule.save()
    return schedule


@transaction.atomic
def schedule_delete(*, user: User, schedule_id: uuid.UUID | str) -> None:
    """Delete a schedule of the user; its beat entry goes with it (apps.schedules.receivers)."""
    selectors.schedule_get(user=user, schedule_id=schedule_id).delete()


def _record(schedule: Schedule, **fields: Any) -> ScheduleAttempt | None:
    """Insert a ledger row for a firing time; None when that firing time already has its row
    (the unique constraint decides, in a savepoint, whatever else runs concurrently)."""
    try:
        with transaction.atomic():
            return ScheduleAttempt.objects.create(schedule=schedule, **fields)
    except IntegrityError:
        return None


def _owed_since(schedule: Schedule) -> datetime:
    """Firing times after this are owed: after the last one in the ledger, and after the
    schedule was created, resumed or re-timed."""
    last = (
        schedule.attempts.exclude(status=ScheduleAttempt.Status.DEDUPLICATED)
        .exclude(firing_time__isnull=True)
        .order_by("-firing_time")
        .values_list("firing_time", flat=True)
        .first()
    )
    return max(last, schedule.fires_from) if last else schedule.fires_from


def _record_missed(schedule: Schedule, missed: list[datetime], reason: str) -> None:
    shown = missed[-MISSED_RECORDED:]
    for firing_time in shown:
        _record(
            schedule,
            firing_time=firing_time,
            status=ScheduleAttempt.Status.SKIPPED,
            reason=reason,
        )


def schedule_fire(
    *, schedule_id: uuid.UUID | str, task_id: str, sent_at: datetime | None = None
) -> ScheduleAttempt | None:
    """What beat's message does: record the firing in the ledger and start at most one run per
    firing time through the same service as the API (SPEC §11, §17).

    `sent_at` is when beat sent the message (stamped on it, see receivers.stamp_beat_message),
    so a message that waited in the queue still names its firing time: the latest cron firing
    at or before it. Every further delivery of that firing time (a redelivered message, a second
    beat) records `deduplicated` and starts nothing. Firing times between the last recorded one
    and this one were missed while beat was down: they are recorded `skipped`, and this one too
    when it is late (sent more than SCHEDULE_MISFIRE_GRACE_SECONDS after its time) unless the
    schedule's `catch_up` is `run_once`, which runs it once for all of them.

    A run that cannot start (no credits, a graph no longer valid or visible) is a `failed` row
    and a `schedule_attempt_failed` signal after commit, never an exception. A message for a
    schedule that no longer exists removes its entry.
    """
    schedule = Schedule.objects.select_related("user").filter(pk=schedule_id).first()
    if schedule is None:
        PeriodicTask.objects.filter(name=_task_name(uuid.UUID(str(schedule_id)))).delete()
        return None
    user_context_set(schedule.user_id)  # logged from here (the task resets it after)
    sent_at = sent_at or django_timezone.now()
    firing_time = cron_rules.previous_run_time(
        schedule.cron, schedule.timezone, at=sent_at + timedelta(seconds=1)
    )
    with transaction.atomic():
        owed_since = _owed_since(schedule)
        if firing_time is None or firing_time <= schedule.fires_from:
            # Beat fired though no firing time is owed (beat fires a resumed entry at once).
            return _record(
                schedule,
                task_id=task_id,
                firing_time=firing_time,
                status=ScheduleAttempt.Status.SKIPPED,
                reason="No firing time was due since the schedule was created or resumed.",
            ) or _deduplicated(schedule, task_id, firing_time)
        missed = (
            cron_rules.run_times_between(schedule.cron, schedule.timezone, owed_since, firing_time)[
                :-1
            ]
            if owed_since < firing_time
            else []
        )
        late = (sent_at - firing_time).total_seconds() > settings.SCHEDULE_MISFIRE_GRACE_SECONDS
        run_once = schedule.catch_up == Schedule.CatchUp.RUN_ONCE
        if late and not run_once:
            skipped = _record(
                schedule,
                task_id=task_id,
                firing_time=firing_time,
                status=ScheduleAttempt.Status.SKIPPED,
                reason="Missed while the scheduler was down (catch_up: skip).",
            )
            if skipped is None:
                return _deduplicated(schedule, task_id, firing_time)
            _record_missed(
                schedule, missed, "Missed while the scheduler was down (catch_up: skip)."
            )
            return skipped
        attempt = _record(
            schedule,
            task_id=task_id,
            firing_time=firing_time,
            status=ScheduleAttempt.Status.FIRED,
            reason="Caught up after the scheduler was down (catch_up: run_once)." if late else "",
        )
        if attempt is None:
            return _deduplicated(schedule, task_id, firing_time)
        if missed:
            why = (
                "Missed while the scheduler was down; caught up by the run of "
                f"{firing_time:%Y-%m-%d %H:%M %Z}."
                if run_once
                else "Missed while the scheduler was down (catch_up: skip)."
            )
            _record_missed(schedule, missed, why)
        try:
            with transaction.atomic():
                execution = graph_execution_start(
                    user=schedule.user,
                    graph_id=schedule.graph_id,
                    graph_version=schedule.graph_version,
                    inputs=schedule.inputs,
                    credentials_inputs=schedule.credentials_inputs,
                )
        except PlatformError as error:
            attempt.status = ScheduleAttempt.Status.FAILED
            attempt.error_code, attempt.error_message = error.error_code, error.message
            attempt.reason = error.message
            payload = {
                "attempt_id": attempt.pk,
                "user_id": schedule.user_id,
                "schedule_id": schedule.pk,
                "schedule_name": schedule.name,
                "graph_id": schedule.graph_id,
                "error_code": error.error_code,
                "message": error.message,
            }
            transaction.on_commit(lambda: signals.schedule_attempt_failed.send(None, **payload))
        else:
            attempt.graph_execution_id = execution.pk
        attempt.save()
    return attempt


def _deduplicated(
    schedule: Schedule, task_id: str, firing_time: datetime | None
) -> ScheduleAttempt:
    first = (
        schedule.attempts.filter(firing_time=firing_time)
        .exclude(status=ScheduleAttempt.Status.DEDUPLICATED)
        .first()
    )
    return ScheduleAttempt.objects.create(
        schedule=schedule,
        task_id=task_id,
        status=ScheduleAttempt.Status.DEDUPLICATED,
        firing_time=firing_time,
        graph_execution_id=first.graph_execution_id if first else None,
        reason="This firing time was already delivered; no second run.",
    )


@transaction.atomic
def housekeeping_sync(*, entries: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Make the beat tables hold exactly the housekeeping jobs declared in code.

    `entries` maps a name to `{"task": ..., "every": seconds}` or `{"task": ..., "cron": "m h
    dom mon dow"}` (UTC), optionally `"queue"`. Declared entries are created or updated (an
    entry of that name made before is taken over), entries this function made that are no
    longer declared are deleted; other beat entries are left alone. Idempotent.
    """
    kept = []
    for name, entry in entries.items():
        if "cron" in entry:
            schedule = {"crontab": _crontab(entry["cron"], "UTC"), "interval": None}
        elif "every" in entry:
            seconds = int(entry["every"])
            if seconds < 1:
                raise ValidationFailed(f"Housekeeping entry {name!r}: every must be >= 1 s.")
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=seconds, period=IntervalSchedule.SECONDS
            )
            schedule = {"interval": interval, "crontab": None}
        else:
            raise ValidationFailed(f"Housekeeping entry {name!r} needs `cron` or `every`.")
        task = PeriodicTask.objects.filter(name=name).first() or PeriodicTask(name=name)
        task.task = entry["task"]
        task.queue = entry.get("queue", "default")
        task.description = HOUSEKEEPING
        task.crontab, task.interval = schedule["crontab"], schedule["interval"]
        task.enabled = True
        task.save()
        kept.append(name)
    stale, _ = PeriodicTask.objects.filter(description=HOUSEKEEPING).exclude(name__in=kept).delete()
    return {"declared": len(kept), "removed": stale}
