import uuid

from django.conf import settings
from django.db import models

from apps.graphs.blocks.llm import DEFAULT_MODEL


class ChatSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_sessions"
    )
    title = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=100, default=DEFAULT_MODEL)
    system_prompt = models.TextField(blank=True)
    # A copilot session's assistant may call the platform's tools (SPEC §18, apps/chat/copilot).
    copilot = models.BooleanField(default=False)
    # The user's key to chat with; none (or deleted): their newest, else the platform's.
    credential = models.ForeignKey(
        "integrations.Credential", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-updated_at"], name="chat_session_user_upd")]
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title or str(self.id)


class ChatMessage(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"
        TOOL = "tool"  # a copilot tool call's result, answering an assistant's `tool_calls`

    class Status(models.TextChoices):
        STREAMING = "streaming"
        COMPLETED = "completed"
        FAILED = "failed"
        INTERRUPTED = "interrupted"  # the stream was closed before the reply ended

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    error = models.TextField(blank=True)
    model = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.IntegerField(default=0)
    completion_tokens = models.IntegerField(default=0)
    cost = models.IntegerField(default=0)  # credits charged for this reply
    # An assistant turn's calls [{id, name, arguments}]; a tool message names the call it answers.
    tool_calls = models.JSONField(default=list, blank=True)
    tool_call_id = models.CharField(max_length=100, blank=True)
    tool_name = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["session", "created_at"], name="chat_message_session")]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class CopilotProposal(models.Model):
    """A graph the copilot drafted and the platform's validator accepted (SPEC §18). It is no
    agent: the user opens it in the builder and saves it, as a new agent or as a new version of
    `base_graph` (the agent under discussion), only by their own click."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        SAVED = "saved"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="proposals")
    message = models.ForeignKey(
        ChatMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    nodes = models.JSONField(default=list)
    links = models.JSONField(default=list)
    base_graph = models.ForeignKey(
        "graphs.Graph", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    saved_graph = models.ForeignKey(
        "graphs.Graph", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    saved_version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


class CopilotRun(models.Model):
    """A run the copilot asked for. It starts only when the user confirms it (SPEC §18)."""

    class Status(models.TextChoices):
        PENDING = "pending"  # waiting for the user's answer
        STARTED = "started"
        DECLINED = "declined"
        REFUSED = "refused"  # confirmed, but the platform would not start it (`error` says why)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="runs")
    message = models.ForeignKey(
        ChatMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="+")
    graph_version = models.PositiveIntegerField()
    graph_name = models.CharField(max_length=100)
    inputs = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    execution = models.ForeignKey(
        "executions.GraphExecution",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.graph_name} ({self.status})"
