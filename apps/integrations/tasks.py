from celery import shared_task

from apps.integrations import services


@shared_task(name="integrations.files_cleanup", acks_late=True)
def files_cleanup() -> int:
    """Beat: delete uploaded files past their expiry (idempotent)."""
    return services.files_delete_expired()
