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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["session", "created_at"], name="chat_message_session")]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"
