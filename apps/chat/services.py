"""Chat (SPEC §7): sessions with an OpenAI-compatible model, replies streamed as they arrive.

`chat_reply_start` does everything that can be refused up front (the session, credentials, the
model, the charge) before any byte is streamed, so a refusal is an ordinary error response; it
returns a `ChatReply` whose iteration streams the reply, saves it and tells /ws about it.
"""

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.chat import context_cache, selectors
from apps.chat.models import ChatMessage, ChatSession
from apps.common.exceptions import ValidationFailed
from apps.common.json_limits import storable
from apps.credits.services import credit_apply
from apps.executions.runtime import charge_usage
from apps.graphs.blocks import llm
from apps.graphs.blocks.context import ProviderCredentials
from apps.graphs.runtime import provider_credentials, safe_http_client
from apps.integrations.crypto import SecretUnreadable
from apps.integrations.selectors import CredentialUnusable, credential_get, credential_resolve
from apps.realtime import events
from apps.users.models import User

logger = logging.getLogger(__name__)
CHAT_DELTA = "chat_message_delta"
CHAT_DONE = "chat_message_done"


@transaction.atomic
def chat_session_create(
    *,
    user: User,
    title: str = "",
    model: str = llm.DEFAULT_MODEL,
    system_prompt: str = "",
    credential_id: uuid.UUID | str | None = None,
) -> ChatSession:
    credential = None
    if credential_id:
        credential = credential_get(user=user, credential_id=credential_id)
    return ChatSession.objects.create(
        user=user,
        title=title.strip(),
        model=model.strip() or llm.DEFAULT_MODEL,
        system_prompt=system_prompt,
        credential=credential,
    )


def chat_session_delete(*, user: User, session_id: uuid.UUID | str) -> None:
    session = selectors.chat_session_get(user=user, session_id=session_id)
    context_cache.forget(session.pk)
    session.delete()


def _credentials(session: ChatSession) -> ProviderCredentials:
    try:
        resolved = credential_resolve(
            user_id=session.user_id,
            provider=llm.PROVIDER,
            credential_id=str(session.credential_id) if session.credential_id else None,
        )
    except SecretUnreadable:
        resolved = None
    except CredentialUnusable as exc:
        raise ValidationFailed(str(exc)) from None
    if resolved is None:
        raise ValidationFailed(
            "No credentials for the OpenAI-compatible provider: add yours under Credentials."
        )
    return provider_credentials(resolved)


INTERNAL_ERROR = "The reply failed on an internal error."


def _reason(exc: Exception) -> str:
    """What a failed reply tells its user: the provider's problem, or nothing of the internals."""
    if isinstance(exc, llm.LlmError):
        return str(exc)
    logger.exception("chat reply failed")
    return INTERNAL_ERROR


@dataclass
class ChatReply:
    """The reply being produced. Iterating streams its text; the message is saved at the end
    (completed, failed with the provider's reason, or interrupted with what had arrived when
    the stream is closed before the reply ends)."""

    session: ChatSession
    user_message: ChatMessage
    message: ChatMessage
    client: llm.Llm
    messages: list[dict[str, Any]]
    usage: llm.StreamUsage = field(default_factory=llm.StreamUsage)

    def _publish(self, method: str, data: dict[str, Any]) -> None:
        group = events.user_group(str(self.session.user_id))
        events.publish([(group, events.message(method, data, group))])

    def stream(self) -> Iterator[str]:
        parts: list[str] = []
        status, error = ChatMessage.Status.INTERRUPTED, ""
        try:
            for text in self.client.stream(
                self.messages, model=self.session.model, usage=self.usage
            ):
                delta = storable(text)  # it is published and saved as it is
                parts.append(delta)
                self._publish(
                    CHAT_DELTA,
                    {
                        "session_id": str(self.session.pk),
                        "message_id": str(self.message.pk),
                        "content": delta,
                    },
                )
                yield delta
            status = ChatMessage.Status.COMPLETED
        except Exception as exc:  # not GeneratorExit: a client that leaves is `interrupted`
            status, error = ChatMessage.Status.FAILED, _reason(exc)
            raise
        finally:
            self._save("".join(parts), status, error)

    def _save(self, content: str, status: str, error: str) -> None:
        message = self.message
        message.content, message.status, message.error = content, status, error
        message.prompt_tokens = self.usage.prompt_tokens
        message.completion_tokens = self.usage.completion_tokens
        if status == ChatMessage.Status.FAILED and message.cost:
            # The provider failed: the reply is not paid for.
            credit_apply(
                user_id=self.session.user_id,
                amount=message.cost,
                type="REFUND",
                transaction_key=f"chat:{message.pk}:refund",
                description="Chat reply failed",
            )
            message.cost = 0
        message.save()
        ChatSession.objects.filter(pk=self.session.pk).update(updated_at=timezone.now())
        done = [{"role": "user", "content": self.user_message.content}]
        if status == ChatMessage.Status.COMPLETED:
            done.append({"role": "assistant", "content": content})
        context_cache.remember(self.session.pk, *done)
        self._publish(
            CHAT_DONE,
            {
                "session_id": str(self.session.pk),
                "message_id": str(message.pk),
                "status": status,
                "error": error or None,
            },
        )


def chat_reply_start(*, user: User, session_id: uuid.UUID | str, content: str) -> ChatReply:
    """Save the user's message and pay for the reply (per model, with the platform's
    credentials only; 402 when the balance cannot cover it), then hand back the reply to
    stream. Nothing is saved or charged when a check fails."""
    session = selectors.chat_session_get(user=user, session_id=session_id)
    credentials = _credentials(session)
    client = llm.Llm(credentials, http=safe_http_client(), timeout=settings.LLM_TIMEOUT_SECONDS)
    try:
        client.check_model(session.model)
    except llm.LlmError as exc:
        raise ValidationFailed(str(exc)) from None
    history = context_cache.recent_messages(session.pk)
    system = [{"role": "system", "content": session.system_prompt}] if session.system_prompt else []
    price = 0 if not credentials.is_platform else llm.MODELS_BY_ID[session.model].cost
    with transaction.atomic():
        user_message = ChatMessage.objects.create(
            session=session, role=ChatMessage.Role.USER, content=content
        )
        message = ChatMessage.objects.create(
            session=session,
            role=ChatMessage.Role.ASSISTANT,
            status=ChatMessage.Status.STREAMING,
            model=session.model,
            cost=price,
        )
        if price:
            charge_usage(
                user_id=user.pk,
                amount=price,
                key=f"chat:{message.pk}",
                description=f"Chat: {session.title or session.model}",
                metadata={"chat_session_id": str(session.pk), "model": session.model},
            )
    return ChatReply(
        session=session,
        user_message=user_message,
        message=message,
        client=client,
        messages=[*system, *history, {"role": "user", "content": content}],
    )
