"""The credit ledger (SPEC §9): append-only transactions and one balance row per user.

1 credit = US$0.01. Every write goes through apps.credits.services.credit_apply, which locks the
balance row; the balance always equals the running balance of the newest active transaction.
"""

import uuid

from django.conf import settings
from django.db import models


class UserBalance(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="balance"
    )
    balance = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}"


class CreditTransaction(models.Model):
    class Type(models.TextChoices):
        TOP_UP = "TOP_UP"
        USAGE = "USAGE"
        GRANT = "GRANT"
        REFUND = "REFUND"
        ADJUSTMENT = "ADJUSTMENT"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_transactions"
    )
    # Idempotency: one entry per key and user, whatever retries or redeliveries happen.
    transaction_key = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=Type.choices)
    amount = models.BigIntegerField()  # signed: USAGE is negative
    # Null while inactive (a TOP_UP waiting for its payment to be confirmed).
    running_balance = models.BigIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # USAGE rows name the run they paid for, so history can group them per run.
    graph_exec_id = models.UUIDField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "transaction_key"], name="credit_transaction_key_unique"
            )
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="credit_tx_user_created"),
            models.Index(fields=["user", "type"], name="credit_tx_user_type"),
            models.Index(fields=["graph_exec_id"], name="credit_tx_graph_exec"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount:+d} ({self.transaction_key})"


class AutoTopUpConfig(models.Model):
    """When a charge leaves the balance below `threshold`, buy `amount` credits off-session with
    the saved payment method (seed 01 §3.1)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    enabled = models.BooleanField(default=False)
    threshold = models.PositiveIntegerField(default=100)
    amount = models.PositiveIntegerField(default=1000)
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    payment_method_id = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.amount} below {self.threshold}"
