from typing import Any

from django_celery_beat.models import PeriodicTask


def drop_periodic_task(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A schedule removed in any way (its own delete, its graph's or its user's cascade)
    takes its beat entry with it, so beat never fires for a schedule that is gone."""
    PeriodicTask.objects.filter(pk=instance.periodic_task_id).delete()
