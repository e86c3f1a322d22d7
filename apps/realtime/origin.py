from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    """Refuses cross-site browser sockets, which would ride on the session cookie.

    Browsers always send Origin on a WebSocket handshake, so one that names a host outside
    ALLOWED_HOSTS is refused. Programs (API-key or JWT clients) send none and are let through:
    without a cookie they must authenticate with a token anyway.
    """

    def __init__(self, application: Any) -> None:
        allowed = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not allowed:
            allowed = ["localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, allowed)

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)
