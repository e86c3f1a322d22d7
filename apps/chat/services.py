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

from apps.chat import context_cache, live, selectors
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
from apps.users.models import User

logger = logging.getLogger(__name__)
CHAT_DELTA, CHAT_DONE = live.CHAT_DELTA, live.CHAT_DONE


@transaction.atomic
def chat_session_create(
    *,
    user: User,
    title: str = "",
    model: str = llm.DEFAULT_MODEL,
    system_prompt: str = "",
    credential_id: uuid.UUID | str | None = None,
    copilot: bool = False,
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
        copilot=copilot,
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


def reason_for(exc: Exception) -> str:
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
        live.publish_to_user(self.session.user_id, method, data)

    def events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """What the SSE stream sends after `message_start`: here one `delta` per piece."""
        for delta in self.stream():
            yield "delta", {"content": delta}

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
            status, error = ChatMessage.Status.FAILED, reason_for(exc)
            raise
        finally:
            self._save("".join(parts), status, error)

    def _save(self, content: str, status: str, error: str, *, final: bool = True) -> None:
        """Save the message (a failed one is refunded) and tell /ws; the reply's `final`
        message also adds the exchange to the context cache."""
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
        if final:
            context_cache.remember(self.session.pk, *self._remembered(status, content))
        self._publish(
            CHAT_DONE,
            {
                "session_id": str(self.session.pk),
                "message_id": str(message.pk),
                "status": status,
                "error": error or None,
            },
        )

    def _remembered(self, status: str, content: str) -> list[dict[str, Any]]:
        done = [{"role": "user", "content": self.user_message.content}]
        if status == ChatMessage.Status.COMPLETED:
            done.append({"role": "assistant", "content": content})
        return done


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
    prompt = session.system_prompt
    if session.copilot:
        prompt = "\n\n".join(part for part in (copilot_prompt(), prompt) if part)
        history = well_formed(history)
    system = [{"role": "system", "content": prompt}] if prompt else []
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
    messages = [*system, *history, {"role": "user", "content": content}]
    if session.copilot:
        return copilot_reply(
            session=session,
            user=user,
            user_message=user_message,
            message=message,
            client=client,
            messages=messages,
            price=price,
        )
    return ChatReply(
        session=session,
        user_message=user_message,
        message=message,
        client=client,
        messages=messages,
    )


def copilot_prompt() -> str:
    from apps.chat.copilot.reply import SYSTEM_PROMPT  # the copilot builds on this module

    return SYSTEM_PROMPT


def copilot_reply(*, user: User, price: int, **fields: Any) -> ChatReply:
    from apps.chat.copilot.reply import CopilotReply  # the copilot builds on this module
    from apps.chat.copilot.tools import Toolset

    return CopilotReply(tools=Toolset(user=user, session=fields["session"]), price=price, **fields)


def well_formed(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history as a provider accepts it: every `tool` message answers a call of the
    assistant message before it, and every call is answered. The cached window may cut an
    exchange in two, and an interrupted reply may leave a call unanswered; those parts go."""
    answered = {m.get("tool_call_id") for m in history if m.get("role") == "tool"}
    kept: list[dict[str, Any]] = []
    open_calls: set[str] = set()
    for message in history:
        if message.get("role") == "tool":
            if message.get("tool_call_id") in open_calls:
                kept.append(message)
            continue
        open_calls = set()
        calls = message.get("tool_calls")
        if calls:
            calls = [call for call in calls if call.get("id") in answered]
            open_calls = {call["id"] for call in calls}
            if not calls and not message.get("content"):
                continue
            message = (
                {**message, "tool_calls": calls}
                if calls
                else {"role": message["role"], "content": message.get("content") or ""}
            )
        kept.append(message)
    return kept
