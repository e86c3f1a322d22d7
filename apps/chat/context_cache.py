"""The recent messages of a chat session in Redis (SPEC §7 chat), so a reply does not read the
whole history from the database. The database stays the truth: a miss rebuilds the list."""

import json
import uuid
from typing import Any

from django.conf import settings

from apps.chat.models import ChatMessage
from apps.common.redis import get_redis

KEY = "autogpt:chat:{}:context"


def _key(session_id: uuid.UUID | str) -> str:
    return KEY.format(session_id)


def _from_database(session_id: uuid.UUID | str) -> list[dict[str, Any]]:
    rows = ChatMessage.objects.filter(
        session__pk=session_id, status=ChatMessage.Status.COMPLETED
    ).order_by("-created_at")[: settings.CHAT_CONTEXT_MESSAGES]
    return [_as_message(row) for row in reversed(rows)]


def _as_message(row: ChatMessage) -> dict[str, Any]:
    """A saved message in the provider's form (a copilot's tool calls and results included)."""
    if row.role == ChatMessage.Role.TOOL:
        return {"role": "tool", "tool_call_id": row.tool_call_id, "content": row.content}
    if row.tool_calls:
        return {
            "role": row.role,
            "content": row.content or None,
            "tool_calls": [
                {"id": c["id"], "type": "function",
                 "function": {"name": c["name"], "arguments": c["arguments"]}}
                for c in row.tool_calls
            ],
        }  # fmt: skip
    return {"role": row.role, "content": row.content}


def recent_messages(session_id: uuid.UUID | str) -> list[dict[str, Any]]:
    client = get_redis()
    raw = client.lrange(_key(session_id), 0, -1)
    if raw:
        return [json.loads(item) for item in raw]
    messages = _from_database(session_id)
    if messages:
        _store(client, session_id, messages)
    return messages


def remember(session_id: uuid.UUID | str, *messages: dict[str, Any]) -> None:
    """Add completed messages; the list keeps the last CHAT_CONTEXT_MESSAGES. A missing list
    is rebuilt from the database on the next read instead (it already holds these)."""
    client = get_redis()
    if client.exists(_key(session_id)):
        _store(client, session_id, list(messages))


def _store(client: Any, session_id: uuid.UUID | str, messages: list[dict[str, Any]]) -> None:
    key = _key(session_id)
    pipe = client.pipeline()
    pipe.rpush(key, *[json.dumps(message) for message in messages])
    pipe.ltrim(key, -settings.CHAT_CONTEXT_MESSAGES, -1)
    pipe.expire(key, settings.CHAT_CACHE_SECONDS)
    pipe.execute()


def forget(session_id: uuid.UUID | str) -> None:
    get_redis().delete(_key(session_id))
