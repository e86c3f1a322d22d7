"""Copies the housekeeping jobs declared in settings.HOUSEKEEPING_SCHEDULE into beat's tables
(and removes those no longer declared). `runplatform` runs it before beat starts; a deployment
runs it after `migrate`."""

from typing import Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.schedules.services import housekeeping_sync


class Command(BaseCommand):
    help = "Sync the housekeeping beat entries declared in settings into the database."

    def handle(self, *args: object, **options: object) -> None:
        # settings.py declares the entries as beat's {name: {task, schedule, ...}} dicts.
        entries = cast(dict[str, dict[str, Any]], settings.HOUSEKEEPING_SCHEDULE)
        result = housekeeping_sync(entries=entries)
        self.stdout.write(
            f"housekeeping: {result['declared']} entries declared, {result['removed']} removed"
        )
