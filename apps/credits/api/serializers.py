import uuid
from typing import Any

from rest_framework import serializers

from apps.credits.models import CreditTransaction


class BalanceSerializer(serializers.Serializer[dict[str, Any]]):
    balance = serializers.IntegerField(help_text="Credits (1 credit = US$0.01)")


class CreditHistoryRowSerializer(serializers.Serializer[dict[str, Any]]):
    """One line of history: an entry, or every USAGE entry of one run added up."""

    type = serializers.CharField(source="kind")
    amount = serializers.IntegerField(source="total")
    entries = serializers.IntegerField()
    created_at = serializers.DateTimeField(source="last_at")
    description = serializers.CharField(source="label")
    graph_exec_id = serializers.SerializerMethodField()

    def get_graph_exec_id(self, row: dict[str, Any]) -> str | None:
        # SQLite casts a UUID to its bare hex; give it back in the usual form everywhere.
        return str(uuid.UUID(row["run_id"])) if row.get("run_id") else None


class GrantRequestSerializer(serializers.Serializer[dict[str, Any]]):
    user_id = serializers.UUIDField()
    amount = serializers.IntegerField(min_value=-10_000_000, max_value=10_000_000)
    reason = serializers.CharField(max_length=200)


class CreditTransactionSerializer(serializers.ModelSerializer[CreditTransaction]):
    class Meta:
        model = CreditTransaction
        fields = [
            "id",
            "transaction_key",
            "type",
            "amount",
            "running_balance",
            "is_active",
            "graph_exec_id",
            "description",
            "created_at",
        ]
