"""Cron expressions and time zones: parsing, validation and the next firing time.

A cron is the five classic fields `minute hour day-of-month month day-of-week`, read in the
schedule's time zone; celery's crontab (through django-celery-beat's time-zone-aware subclass) is
what beat fires on, so the next firing time is computed with the very same object.
"""

import zoneinfo
from datetime import UTC, datetime, timedelta

from celery.schedules import crontab
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_celery_beat.tzcrontab import TzAwareCrontab
from django_celery_beat.validators import crontab_validator

from apps.common.exceptions import ValidationFailed
from apps.users.models import timezone_names

FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": {field: [message]}})


def cron_fields(cron: str) -> dict[str, str]:
    """The five fields of `cron` by name; a ValidationFailed (400) names what is wrong."""
    parts = cron.split() if isinstance(cron, str) else []
    if len(parts) != len(FIELDS):
        raise _invalid(
            "cron", "cron must have five fields: minute hour day-of-month month day-of-week."
        )
    try:
        crontab_validator(" ".join(parts))
        fields = dict(zip(FIELDS, parts, strict=True))
        crontab(**fields)  # the ranges celery itself accepts (e.g. minute 0-59)
    except (ValidationError, ValueError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        raise _invalid("cron", f"Invalid cron expression {cron!r}: {message}") from None
    return fields


def check_timezone(name: str) -> zoneinfo.ZoneInfo:
    if not isinstance(name, str) or name not in timezone_names():
        raise _invalid("timezone", f"{name!r} is not an IANA time zone name (e.g. Europe/Berlin).")
    return zoneinfo.ZoneInfo(name)


def next_run_time(cron: str, tz_name: str, *, after: datetime | None = None) -> datetime:
    """The first firing strictly after `after` (default: now), in the schedule's time zone."""
    tz = zoneinfo.ZoneInfo(tz_name)
    after = (after or timezone.now()).astimezone(tz)
    schedule = TzAwareCrontab(tz=tz, **cron_fields(cron))
    # remaining_delta() reads "now" from the schedule; pin it to `after`.
    schedule.nowfun = lambda: after
    # Add in UTC: aware arithmetic in a zone with DST adds wall-clock time, an hour off
    # across a change.
    return (after.astimezone(UTC) + schedule.remaining_estimate(after)).astimezone(tz)


def next_run_times(
    cron: str, tz_name: str, count: int, *, after: datetime | None = None
) -> list[datetime]:
    """The next `count` firings strictly after `after` (default: now), in the time zone."""
    times: list[datetime] = []
    for _ in range(count):
        after = next_run_time(cron, tz_name, after=after)
        times.append(after)
    return times


def run_times_between(
    cron: str, tz_name: str, start: datetime, end: datetime, *, limit: int = 10_000
) -> list[datetime]:
    """The firings in (start, end], oldest first, at most `limit` (the oldest ones)."""
    times: list[datetime] = []
    moment = next_run_time(cron, tz_name, after=start)
    while moment <= end and len(times) < limit:
        times.append(moment)
        moment = next_run_time(cron, tz_name, after=moment)
    return times


# Windows looked back through for the latest firing at or before a moment: short ones first,
# so a cron firing every minute is not walked through for a year.
_LOOKBACK = (
    timedelta(minutes=2),
    timedelta(hours=2),
    timedelta(days=2),
    timedelta(days=33),
    timedelta(days=367),
    timedelta(days=366 * 8),  # 29 February on a Monday comes round within 28 years; enough
)


def previous_run_time(cron: str, tz_name: str, *, at: datetime) -> datetime | None:
    """The latest firing at or before `at` (None if there was none for years)."""
    for span in _LOOKBACK:
        found = run_times_between(cron, tz_name, at - span, at, limit=100_000)
        if found:
            return found[-1]
    return None
