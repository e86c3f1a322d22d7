from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_timezone
from rest_framework.fields import DateTimeField

from apps.common.dates import datetime_text

MOMENTS = [
    datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 7, 1, 12, 0),  # naive: taken as the current time zone, as DRF does
]


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_datetime_text_is_what_drf_writes(moment: datetime, zone: str) -> None:
    """REST bodies and /ws events write timestamps without DRF's fields: same text."""
    with django_timezone.override(zone):
        assert datetime_text(moment) == DateTimeField().to_representation(moment)


def test_no_datetime_is_null() -> None:
    assert datetime_text(None) is None
