"""Webhook triggers (SPEC §3, §12): a signed ingress URL that starts a graph's runs.

A graph trigger follows the graph's active version: it is created when a version with a Webhook
Trigger node becomes active, and its `graph_version` is cleared (calls answer 404) while the
active version has none. A preset trigger starts runs from a preset. Deleting the graph (or the
preset) deletes its triggers and their call log.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Webhook(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )
    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="+")
    # The version a graph trigger starts; None while the active version has no Webhook node.
    graph_version = models.PositiveIntegerField(null=True, blank=True)
    preset = models.ForeignKey(
        "graphs.Preset", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Fernet-encrypted (apps.webhooks.crypto): the HMAC check needs the secret itself.
    secret_encrypted = models.TextField()
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_called_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["graph"], condition=Q(preset__isnull=True), name="webhook_one_per_graph"
            ),
            models.UniqueConstraint(
                fields=["preset"], condition=Q(preset__isnull=False), name="webhook_one_per_preset"
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return str(self.id)

    @property
    def accepts_calls(self) -> bool:
        return self.enabled and (self.preset_id is not None or self.graph_version is not None)


class WebhookCall(models.Model):
    """An authentic call: the run it started, or why none was started (402, invalid graph)."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="calls")
    received_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField()
    execution = models.ForeignKey(
        "executions.GraphExecution", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["webhook", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.webhook_id} {self.status_code}"
