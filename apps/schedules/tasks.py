from datetime import datetime

from celery import shared_task

from apps.common.logging import user_context
from apps.schedules import services


@shared_task(name="schedules.fire", bind=True, ignore_result=True, time_limit=120)
def fire(self, schedule_id: str, sent_at: str | None = None) -> None:
    """Beat's message for an agent schedule: record its firing time in the ledger and start at
    most one run for it. `sent_at` is stamped on the message by beat (receivers)."""
    with user_context(None):  # the service names the schedule's user; nothing is left after
        services.schedule_fire(
            schedule_id=schedule_id,
            task_id=self.request.id,
            sent_at=datetime.fromisoformat(sent_at) if sent_at else None,
        )
