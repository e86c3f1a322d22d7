from celery import shared_task

from apps.schedules import services


@shared_task(name="schedules.fire", bind=True, ignore_result=True, time_limit=120)
def fire(self, schedule_id: str) -> None:
    """Beat's message for an agent schedule: start its run (or record why it could not).
    Idempotent per message id."""
    services.schedule_fire(schedule_id=schedule_id, task_id=self.request.id)
