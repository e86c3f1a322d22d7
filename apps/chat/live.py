"""What the chat tells a user's open pages over /ws (SPEC §8): the one place in apps/chat that
publishes, so the events publisher can move without touching the rest."""

from typing import Any

from apps.realtime import events

CHAT_DELTA = "chat_message_delta"
CHAT_DONE = "chat_message_done"
CHAT_TOOL_CALL = "chat_tool_call"
CHAT_TOOL_RESULT = "chat_tool_result"
CHAT_RUN = "chat_run"  # a run request was confirmed or declined


def publish_to_user(user_id: Any, method: str, data: dict[str, Any]) -> None:
    group = events.user_group(str(user_id))
    events.publish([(group, events.message(method, data, group))])
