"""Timestamps as API text, the one format of REST bodies and /ws events (DRF's ISO 8601)."""

from datetime import datetime

from django.utils import timezone


def datetime_text(value: datetime | None) -> str | None:
    """ISO 8601 in the current time zone, UTC written `Z`: what DRF's DateTimeField returns,
    without building a field (event payloads are built on every step of every run)."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
