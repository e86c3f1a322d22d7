"""The `/ws` endpoint (SPEC §8): authorises the socket, subscribes it to execution groups and
forwards what is published there. Consumers only authorise, subscribe and forward."""

from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.common.exceptions import NotFound
from apps.executions import events, selectors
from apps.graphs import selectors as graph_selectors
from apps.users.models import APIKey
from apps.users.permissions import api_key_denial
from apps.users.services import token_authenticate

CLOSE_MISSING_AUTH = 4001
CLOSE_INVALID_AUTH = 4003

# What an API key needs for each method, as REST asks for the same data: the runs' events are
# what GET /api/executions/{id} answers (READ_GRAPH); the user's own channel carries
# notifications, which GET /api/notifications answers (IDENTITY).
API_KEY_PERMISSIONS = {
    "subscribe_graph_execution": APIKey.Permission.READ_GRAPH,
    "subscribe_graph_executions": APIKey.Permission.READ_GRAPH,
}
USER_CHANNEL_PERMISSION = APIKey.Permission.IDENTITY
# Chat's API takes no API key (a signed-in user or a JWT only), so neither does its stream on
# the user's channel: an API-key socket is not sent these.
NOT_FOR_API_KEYS = ("chat_",)


def _execution_group(user: Any, graph_exec_id: str) -> str:
    execution = selectors.graph_execution_get(user=user, graph_exec_id=graph_exec_id)
    return events.execution_group(str(execution.id))


def _graph_group(user: Any, graph_id: str) -> str:
    graph = graph_selectors.graph_get(user=user, graph_id=graph_id)
    return events.graph_group(str(graph.id), str(user.pk))


class PlatformConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        # Accept first: a close before accept is an HTTP 403 and the client never sees the code.
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        self.api_key: APIKey | None = None
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

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
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
        handler = self.METHODS.get(method)
        if handler is None:
            await self.send_error(method, f"Unknown method {method!r}.")
            return
        if method in API_KEY_PERMISSIONS:
            denial = api_key_denial(self.api_key, API_KEY_PERMISSIONS[method])
            if denial is not None:
                await self.send_error(method, denial)
                return
        await handler(self, data if isinstance(data, dict) else {})

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

    async def _join(self, method: str, resolve: Any, user: Any, ident: Any) -> None:
        if not isinstance(ident, str) or not ident:
            await self.send_error(method, "Give the id to subscribe to.")
            return
        try:
            group = await database_sync_to_async(resolve)(user, ident)
        except NotFound:
            await self.send_error(method, "Not found.")
            return
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)
        await self.send_json(events.message(method, {"channel": group}, group))

    async def handle_subscribe_execution(self, data: dict[str, Any]) -> None:
        await self._join(
            "subscribe_graph_execution", _execution_group, self.user, data.get("graph_exec_id")
        )

    async def handle_subscribe_graph(self, data: dict[str, Any]) -> None:
        await self._join(
            "subscribe_graph_executions", _graph_group, self.user, data.get("graph_id")
        )

    async def handle_unsubscribe(self, data: dict[str, Any]) -> None:
        if data.get("graph_exec_id"):
            group = events.execution_group(str(data["graph_exec_id"]))
        elif data.get("graph_id"):
            group = events.graph_group(str(data["graph_id"]), str(self.user.pk))
        else:
            await self.send_error("unsubscribe", "Give graph_exec_id or graph_id.")
            return
        if group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.discard(group)
        await self.send_json(events.message("unsubscribe", {"channel": group}, group))

    async def handle_heartbeat(self, data: dict[str, Any]) -> None:
        await self.send_json(
            {"method": "heartbeat", "data": "pong", "success": True, "channel": None, "error": None}
        )

    async def execution_events(self, event: dict[str, Any]) -> None:
        """Messages published to a group this socket joined (apps.executions.events)."""
        for message in event["messages"]:
            if self.api_key is not None and message.get("method", "").startswith(NOT_FOR_API_KEYS):
                continue
            await self.send_json(message)

    METHODS = {
        "subscribe_graph_execution": handle_subscribe_execution,
        "subscribe_graph_executions": handle_subscribe_graph,
        "unsubscribe": handle_unsubscribe,
        "heartbeat": handle_heartbeat,
    }
