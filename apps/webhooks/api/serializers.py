from rest_framework import serializers

from apps.webhooks import selectors
from apps.webhooks.models import Webhook, WebhookCall


class WebhookSerializer(serializers.ModelSerializer):
    graph_id = serializers.UUIDField(read_only=True)
    preset_id = serializers.UUIDField(read_only=True, allow_null=True)
    ingress_url = serializers.SerializerMethodField()
    accepts_calls = serializers.BooleanField(read_only=True)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "graph_id",
            "graph_version",
            "preset_id",
            "enabled",
            "accepts_calls",
            "ingress_url",
            "created_at",
            "last_called_at",
        ]
        read_only_fields = fields

    def get_ingress_url(self, webhook: Webhook) -> str:
        return selectors.webhook_ingress_url(webhook)


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Shown this once: keep it; rotate it if it is lost."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def to_representation(self, pair: tuple[Webhook, str]) -> dict:
        webhook, secret = pair
        return {**super().to_representation(webhook), "secret": secret}


class WebhookCreateSerializer(serializers.Serializer):
    preset_id = serializers.UUIDField(help_text="The preset whose runs the calls start.")


class WebhookUpdateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


class WebhookCallSerializer(serializers.ModelSerializer):
    execution_id = serializers.UUIDField(read_only=True, allow_null=True)
    execution_status = serializers.CharField(
        source="execution.status", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = WebhookCall
        fields = ["id", "received_at", "status_code", "execution_id", "execution_status", "error"]
        read_only_fields = fields


class WebhookIngressAcceptedSerializer(serializers.Serializer):
    execution_id = serializers.UUIDField()
    status = serializers.CharField()
