"""Beat as it decides, under a frozen clock: django-celery-beat's DatabaseScheduler reads the
entries from the database and asks each one whether it is due."""

from datetime import datetime

import time_machine
from django_celery_beat.schedulers import DatabaseScheduler

from autogpt.celery import app as celery_app


def scheduler_at(moment: datetime) -> DatabaseScheduler:
    with time_machine.travel(moment, tick=False):
        return DatabaseScheduler(app=celery_app, lazy=True)


def is_due(name: str, moment: datetime) -> bool:
    """Would beat fire entry `name` at `moment`? (False when beat does not even load it.)"""
    with time_machine.travel(moment, tick=False):
        entry = DatabaseScheduler(app=celery_app, lazy=True).schedule.get(name)
        return entry is not None and entry.is_due().is_due


def fire(name: str, moment: datetime, *, send: bool = False) -> None:
    """Beat fires entry `name` at `moment`: its last run is recorded (and, with `send`, its
    message goes to the broker exactly as beat sends it)."""
    with time_machine.travel(moment, tick=False):
        scheduler = DatabaseScheduler(app=celery_app, lazy=True)
        entry = scheduler.schedule[name]
        assert entry.is_due().is_due
        scheduler.reserve(entry)
        if send:
            scheduler.apply_async(entry, advance=False)
        scheduler.sync()
