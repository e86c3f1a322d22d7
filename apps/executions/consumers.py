"""The `/ws` endpoint (SPEC §8): authorises the socket and answers its messages.

Consumers only authorise, subscribe and forward; what a message means lives in services.
"""

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.users.services import user_authenticate_token

CLOSE_MISSING_AUTH = 4001
CLOSE_INVALID_AUTH = 4003


class PlatformConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        # Accept first: a close before accept is an HTTP 403 and the client never sees the code.
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        if token:
            user = await database_sync_to_async(user_authenticate_token)(token=token)
            if user is None:
                await self.close(code=CLOSE_INVALID_AUTH)
                return
        else:
            user = self.scope.get("user")
            if user is None or not user.is_authenticated:
                await self.close(code=CLOSE_MISSING_AUTH)
                return
        self.user = user

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        method = content.get("method") if isinstance(content, dict) else None
        handler = self.METHODS.get(method)
        if handler is None:
            await self.send_error(method, f"Unknown method {method!r}.")
            return
        await handler(self, content.get("data"))

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

    async def handle_heartbeat(self, data: Any) -> None:
        await self.send_json(
            {"method": "heartbeat", "data": "pong", "success": True, "channel": None, "error": None}
        )

    METHODS = {"heartbeat": handle_heartbeat}
