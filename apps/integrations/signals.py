"""What integrations tells the layers above (the notifications app listens)."""

from django.dispatch import Signal

# An OAuth2 credential could not be refreshed and is now `needs_reauth`; sent after commit with
# user_id, credential_id, provider, title, reason.
credential_needs_reauth = Signal()
