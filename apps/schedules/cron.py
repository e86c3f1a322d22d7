"""Cron expressions and time zones: parsing, validation and the next firing time.

A cron is the five classic fields `minute hour day-of-month month day-of-week`, read in the
schedule's time zone; celery's crontab (through django-celery-beat's time-zone-aware subclass) is
what beat fires on, so the next firing time is computed with the very same object.
"""

import zoneinfo
from datetime import UTC, datetime

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
