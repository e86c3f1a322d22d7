from celery import shared_task

from apps.common.logging import user_context
from apps.schedules import services


@shared_task(name="schedules.fire", bind=True, ignore_result=True, time_limit=120)
def fire(self, schedule_id: str) -> None:
    """Beat's message for an agent schedule: start its run (or record why it could not).
    Idempotent per message id."""
    with user_context(None):  # the service names the schedule's user; nothing is left after
        services.schedule_fire(schedule_id=schedule_id, task_id=self.request.id)
