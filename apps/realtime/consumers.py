"""The `/ws` endpoint (SPEC §8): authorises the socket, subscribes it to the groups the apps
above registered (apps.realtime.topics) and forwards what is published there. Consumers only
authorise, subscribe and forward."""

from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.common.exceptions import NotFound
from apps.realtime import events
from apps.realtime.topics import Topic, topic_get, topic_list
from apps.users.models import APIKey
from apps.users.permissions import api_key_denial
from apps.users.services import token_authenticate

CLOSE_MISSING_AUTH = 4001
CLOSE_INVALID_AUTH = 4003

# An API key needs, for a subscription, its topic's permission (REST asks the same for the same
# data); the user's own channel carries notifications, which GET /api/notifications answers.
USER_CHANNEL_PERMISSION = APIKey.Permission.IDENTITY
# Chat's API takes no API key (a signed-in user or a JWT only), so neither does its stream on
# the user's channel: an API-key socket is not sent these.
NOT_FOR_API_KEYS = ("chat_",)
# SPEC §17: `subscribe_graph_execution {graph_exec_id, since_seq}` replays the run's stored events
# after `since_seq`, then goes live.
SINCE_KEY = "since_seq"
SINCE_ERROR = "since_seq must be a whole number, 0 or more (the seq of the last event you have)."


class PlatformConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        # Accept first: a close before accept is an HTTP 403 and the client never sees the code.
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        self.api_key: APIKey | None = None
        user: Any
        if token:
            found = await database_sync_to_async(token_authenticate)(token=token)
            if found is None:
                await self.close(code=CLOSE_INVALID_AUTH)
                return
            user, self.api_key = found
        else:
            user = self.scope.get("user")
            if user is None or not user.is_authenticated:
                await self.close(code=CLOSE_MISSING_AUTH)
                return
        self.user = user
        self.groups_joined: set[str] = set()
        # Per group subscribed with `since_seq`: the last `seq` replayed; live messages up to it
        # were sent already (SPEC §17: no duplicate).
        self.replayed_to: dict[str, int] = {}
        if api_key_denial(self.api_key, USER_CHANNEL_PERMISSION) is None:
            await self.channel_layer.group_add(events.user_group(str(user.pk)), self.channel_name)
            self.groups_joined.add(events.user_group(str(user.pk)))

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch hops to a thread to close old database connections before
        # every message; event forwarding uses no database, and the handlers that do go
        # through database_sync_to_async, which closes them itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """A frame that is not JSON text is answered with an error; the socket stays open."""
        if text_data is None:
            await self.send_error(None, "Messages are JSON in text frames.")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_error(None, "The message is not valid JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        method = content.get("method") if isinstance(content, dict) else None
        data = content.get("data") if isinstance(content, dict) else None
        data = data if isinstance(data, dict) else {}
        topic = topic_get(method)
        if topic is not None:
            denial = api_key_denial(self.api_key, topic.permission)
            if denial is not None:
                await self.send_error(method, denial)
                return
            await self._join(topic, data.get(topic.key), data)
        elif method == "unsubscribe":
            await self.handle_unsubscribe(data)
        elif method == "heartbeat":
            await self.handle_heartbeat(data)
        else:
            await self.send_error(method, f"Unknown method {method!r}.")

    async def send_error(self, method: str | None, message: str) -> None:
        await self.send_json(
            {
                "method": "error",
                "data": {"request_method": method},
                "success": False,
                "channel": None,
                "error": message,
            }
        )

    async def _join(self, topic: Topic, ident: Any, data: dict[str, Any]) -> None:
        if not isinstance(ident, str) or not ident:
            await self.send_error(topic.method, "Give the id to subscribe to.")
            return
        since = data.get(SINCE_KEY)
        if since is not None and (topic.replay is None or not _is_seq(since)):
            error = SINCE_ERROR if topic.replay else f"{topic.method} takes no {SINCE_KEY}."
            await self.send_error(topic.method, error)
            return
        try:
            group = await database_sync_to_async(topic.resolve)(self.user, ident)
        except NotFound:
            await self.send_error(topic.method, "Not found.")
            return
        # Live first, then the database: an event committed meanwhile is in one or both, and
        # execution_events drops a live message the replay sent (by `seq`). Channel messages
        # wait until this handler returns (a consumer handles one message at a time).
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)
        replayed: list[dict[str, Any]] = []
        self.replayed_to.pop(group, None)
        if since is not None and topic.replay is not None:
            try:
                replayed, last = await database_sync_to_async(topic.replay)(self.user, ident, since)
            except NotFound:  # deleted between the two reads
                replayed, last = [], since
            self.replayed_to[group] = last
        await self.send_json(events.message(topic.method, {"channel": group}, group))
        for message in replayed:
            await self.send_json(message)

    async def handle_unsubscribe(self, data: dict[str, Any]) -> None:
        topics = topic_list()
        topic = next((topic for topic in topics if data.get(topic.key)), None)
        if topic is None:
            keys = " or ".join(topic.key for topic in topics)
            await self.send_error("unsubscribe", f"Give {keys}.")
            return
        group = topic.group(self.user, str(data[topic.key]))
        if group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.discard(group)
        self.replayed_to.pop(group, None)
        await self.send_json(events.message("unsubscribe", {"channel": group}, group))

    async def handle_heartbeat(self, data: dict[str, Any]) -> None:
        await self.send_json(
            {"method": "heartbeat", "data": "pong", "success": True, "channel": None, "error": None}
        )

    async def execution_events(self, event: dict[str, Any]) -> None:
        """Messages published to a group this socket joined (apps.realtime.events)."""
        for message in event["messages"]:
            if self.api_key is not None and message.get("method", "").startswith(NOT_FOR_API_KEYS):
                continue
            if self._replayed(message):
                continue
            await self.send_json(message)

    def _replayed(self, message: dict[str, Any]) -> bool:
        floor = self.replayed_to.get(message.get("channel") or "")
        seq = message.get("seq")
        return floor is not None and isinstance(seq, int) and seq <= floor


def _is_seq(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
