from typing import Any

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

FIRE_TASK = "schedules.fire"


def drop_periodic_task(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A schedule removed in any way (its own delete, its graph's or its user's cascade)
    takes its beat entry with it, so beat never fires for a schedule that is gone."""
    PeriodicTask.objects.filter(pk=instance.periodic_task_id).delete()


def stamp_beat_message(sender: Any = None, body: Any = None, **kwargs: Any) -> None:
    """Celery's before_task_publish, in the process that sends (beat): a schedule's message
    carries when it was sent, so the worker knows its firing time however long it waited in the
    queue, and a redelivery carries the same one (SPEC §17)."""
    if sender != FIRE_TASK or not isinstance(body, tuple | list) or len(body) < 2:
        return
    task_kwargs = body[1]
    if isinstance(task_kwargs, dict) and "sent_at" not in task_kwargs:
        task_kwargs["sent_at"] = timezone.now().isoformat()
