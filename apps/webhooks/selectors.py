"""Reads of webhook triggers; another user's webhook is NotFound."""

import uuid

from django.db.models import QuerySet

from apps.common.exceptions import NotFound
from apps.users.models import User
from apps.webhooks.models import Webhook, WebhookCall


def webhook_list(*, user: User) -> QuerySet[Webhook]:
    return Webhook.objects.filter(user=user).order_by("-created_at")


def webhook_id_parse(webhook_id: uuid.UUID | str) -> uuid.UUID:
    try:
        return uuid.UUID(str(webhook_id))
    except ValueError:
        raise NotFound("Webhook not found.") from None


def webhook_get(*, user: User, webhook_id: uuid.UUID | str) -> Webhook:
    webhook = Webhook.objects.filter(user=user, pk=webhook_id_parse(webhook_id)).first()
    if webhook is None:
        raise NotFound("Webhook not found.")
    return webhook


def webhook_call_list(*, user: User, webhook_id: uuid.UUID | str) -> QuerySet[WebhookCall]:
    """Newest first, with the run each call started."""
    webhook = webhook_get(user=user, webhook_id=webhook_id)
    return (
        WebhookCall.objects.filter(webhook=webhook)
        .select_related("execution")
        .order_by("-received_at", "-pk")
    )
