"""Notifications (SPEC §11): stored in-app, pushed on /ws, emailed within the user's preferences
and daily cap."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class NotificationType(models.TextChoices):
    AGENT_RUN = "agent_run"
    ZERO_BALANCE = "zero_balance"
    LOW_BALANCE = "low_balance"
    BLOCK_EXECUTION_FAILED = "block_execution_failed"
    CONTINUOUS_AGENT_ERROR = "continuous_agent_error"
    DAILY_SUMMARY = "daily_summary"
    WEEKLY_SUMMARY = "weekly_summary"
    MONTHLY_SUMMARY = "monthly_summary"
    AGENT_APPROVED = "agent_approved"
    AGENT_REJECTED = "agent_rejected"
    REFUND_PROCESSED = "refund_processed"
    REVIEW_REQUESTED = "review_requested"  # a run waits for its owner's human review
    CREDENTIAL_NEEDS_REAUTH = "credential_needs_reauth"
    AGENT_MESSAGE = "agent_message"  # sent by an agent's Notify Owner block


class Notification(models.Model):
    Type = NotificationType

    class Email(models.TextChoices):
        NONE = "", "not emailed"
        PENDING = "pending", "waiting for the digest"
        SENT = "sent"
        OFF = "off", "preference off"
        CAPPED = "capped", "daily cap reached"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    type = models.CharField(max_length=32, choices=NotificationType.choices)
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Makes a producer's retry harmless: one notification per (user, type, key).
    dedupe_key = models.CharField(max_length=200)
    email_status = models.CharField(max_length=10, choices=Email.choices, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "type", "dedupe_key"], name="notification_dedupe"
            )
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_created"),
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["email_status"],
                condition=Q(email_status="pending"),
                name="notification_digest_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type}: {self.title}"


class EmailDelivery(models.Model):
    """One email sent (or reserved to be sent): what the daily cap counts."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_deliveries"
    )
    kind = models.CharField(max_length=32)
    subject = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "email deliveries"
        indexes = [models.Index(fields=["user", "created_at"], name="email_delivery_user_day")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"


class NotificationBackoff(models.Model):
    """Per user and subject (a graph's failing blocks): when the next notice may go out."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    sent = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    next_allowed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_backoff_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.sent} sent, {self.suppressed} held back"
