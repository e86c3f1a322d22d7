from rest_framework import serializers

from apps.chat.models import ChatMessage, ChatSession, CopilotProposal, CopilotRun
from apps.graphs.blocks.llm import DEFAULT_MODEL
from apps.graphs.shapes import LinkInSerializer, NodeInSerializer


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
            "tool_calls",
            "tool_call_id",
            "tool_name",
            "created_at",
        ]


class CopilotProposalSerializer(serializers.ModelSerializer):
    session_id = serializers.UUIDField(read_only=True)
    message_id = serializers.UUIDField(read_only=True, allow_null=True)
    base_graph_id = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The agent it changes; null: a new agent"
    )
    saved_graph_id = serializers.UUIDField(read_only=True, allow_null=True)
    nodes = NodeInSerializer(many=True, read_only=True)
    links = LinkInSerializer(many=True, read_only=True)

    class Meta:
        model = CopilotProposal
        fields = [
            "id",
            "session_id",
            "message_id",
            "name",
            "description",
            "nodes",
            "links",
            "base_graph_id",
            "status",
            "saved_graph_id",
            "saved_version",
            "created_at",
        ]


class CopilotProposalSaveSerializer(serializers.Serializer):
    save_as = serializers.ChoiceField(
        choices=["new", "version"],
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: a new version of the agent it changes, else a new agent",
    )


class CopilotRunSerializer(serializers.ModelSerializer):
    session_id = serializers.UUIDField(read_only=True)
    message_id = serializers.UUIDField(read_only=True, allow_null=True)
    graph_id = serializers.UUIDField(read_only=True)
    execution_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = CopilotRun
        fields = [
            "id",
            "session_id",
            "message_id",
            "graph_id",
            "graph_version",
            "graph_name",
            "inputs",
            "status",
            "execution_id",
            "error",
            "created_at",
            "decided_at",
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
            "copilot",
            "created_at",
            "updated_at",
        ]


class ChatSessionDetailSerializer(ChatSessionSerializer):
    messages = ChatMessageSerializer(many=True, read_only=True)
    proposals = CopilotProposalSerializer(many=True, read_only=True)
    runs = CopilotRunSerializer(many=True, read_only=True)

    class Meta(ChatSessionSerializer.Meta):
        fields = [*ChatSessionSerializer.Meta.fields, "messages", "proposals", "runs"]


class ChatSessionCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    model = serializers.CharField(max_length=100, required=False, default=DEFAULT_MODEL)
    system_prompt = serializers.CharField(
        max_length=20_000, required=False, default="", allow_blank=True
    )
    credential_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    copilot = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The assistant may search blocks, draft and propose agents, and ask to run "
        "them (SPEC §18)",
    )


class ChatMessageCreateSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=50_000)


class ChatModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    cost = serializers.IntegerField(help_text="Credits per reply with the platform's credentials")
    context_window = serializers.IntegerField()
