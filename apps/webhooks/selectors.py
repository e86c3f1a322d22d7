"""Reads of webhook triggers; another user's webhook is NotFound."""

import uuid

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from apps.common.exceptions import NotFound
from apps.users.models import User
from apps.webhooks.models import Webhook, WebhookCall


def webhook_list(*, user: User, graph_id: uuid.UUID | None = None) -> QuerySet[Webhook]:
    webhooks = Webhook.objects.filter(user=user)
    if graph_id is not None:
        webhooks = webhooks.filter(graph_id=graph_id)
    return webhooks.select_related("preset").order_by("-created_at")


def webhook_ingress_url(webhook: Webhook) -> str:
    """The address senders POST their signed calls to (under SITE_URL)."""
    path = reverse("webhook-ingress", kwargs={"webhook_id": webhook.pk})
    return settings.SITE_URL.rstrip("/") + path


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
