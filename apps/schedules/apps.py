from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "apps.schedules"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from apps.schedules import receivers
        from apps.schedules.models import Schedule

        post_delete.connect(
            receivers.drop_periodic_task, sender=Schedule, dispatch_uid="schedule-periodic-task"
        )
        from celery.signals import before_task_publish

        before_task_publish.connect(
            receivers.stamp_beat_message, dispatch_uid="schedule-stamp-beat-message"
        )
