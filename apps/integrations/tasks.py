from celery import shared_task

from apps.integrations import oauth, services


@shared_task(name="integrations.files_cleanup", acks_late=True)
def files_cleanup() -> int:
    """Beat: delete uploaded files past their expiry (idempotent)."""
    return services.files_delete_expired()


@shared_task(name="integrations.oauth_states_cleanup", acks_late=True)
def oauth_states_cleanup() -> int:
    """Beat: forget OAuth2 consents never called back (the user left the provider's page)."""
    return oauth.oauth_states_delete_expired()
