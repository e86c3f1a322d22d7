from rest_framework import serializers

from apps.chat.models import ChatMessage, ChatSession
from apps.graphs.blocks.llm import DEFAULT_MODEL


class ChatMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChatMessage
        fields = [
            "id",
            "role",
            "content",
            "status",
            "error",
            "model",
            "prompt_tokens",
            "completion_tokens",
            "cost",
            "created_at",
        ]


class ChatSessionSerializer(serializers.ModelSerializer):
    credential_id = serializers.UUIDField(allow_null=True, read_only=True)

    class Meta:
        model = ChatSession
        fields = [
            "id",
            "title",
            "model",
            "system_prompt",
            "credential_id",
            "created_at",
            "updated_at",
        ]


class ChatSessionDetailSerializer(ChatSessionSerializer):
    messages = ChatMessageSerializer(many=True, read_only=True)

    class Meta(ChatSessionSerializer.Meta):
        fields = [*ChatSessionSerializer.Meta.fields, "messages"]


class ChatSessionCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    model = serializers.CharField(max_length=100, required=False, default=DEFAULT_MODEL)
    system_prompt = serializers.CharField(
        max_length=20_000, required=False, default="", allow_blank=True
    )
    credential_id = serializers.UUIDField(required=False, allow_null=True, default=None)


class ChatMessageCreateSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=50_000)


class ChatModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    cost = serializers.IntegerField(help_text="Credits per reply with the platform's credentials")
    context_window = serializers.IntegerField()
