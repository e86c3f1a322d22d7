"""Celery entry points of notifications (queue `notifications`): thin and idempotent (each
notification has a dedupe key; a redelivered message finds it and delivers nothing again)."""

from typing import Any

from celery import shared_task

from apps.common.logging import user_context
from apps.notifications import services

QUEUE = "notifications"


@shared_task(name="notifications.notify", bind=True, ignore_result=True, time_limit=120)
def notify(self, user_id: str, type: str, data: dict[str, Any], dedupe_key: str = "") -> None:
    """Store, push and maybe email one notification. Without a key of the producer's, the
    message id is the key."""
    with user_context(user_id):
        services.notification_send(
            user_id=user_id,
            type=type,
            data=data,
            dedupe_key=dedupe_key or f"task:{self.request.id}",
        )


@shared_task(name="notifications.send_digests", ignore_result=True, time_limit=600)
def send_digests() -> int:
    """Beat: one email per user of the runs that finished since the last digest."""
    return services.notification_digests_send()


@shared_task(name="notifications.send_summaries", ignore_result=True, time_limit=1800)
def send_summaries() -> int:
    """Beat, hourly: daily, weekly and monthly summaries of periods just ended, per user zone."""
    return services.notification_summaries_send()
