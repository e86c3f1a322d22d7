"""ASGI entry point: HTTP goes to Django on a thread pool (autogpt/asgi_http.py), `/ws` to the
Channels consumers."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autogpt.settings")
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from apps.realtime.origin import BrowserOriginValidator  # noqa: E402
from apps.realtime.routing import websocket_urlpatterns  # noqa: E402
from autogpt.asgi_http import ThreadedDjangoHttp  # noqa: E402
from autogpt.heap import freeze_startup_heap  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": ThreadedDjangoHttp(threads=settings.WEB_THREADS),
        "websocket": BrowserOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
get_resolver().url_patterns  # noqa: B018 - imports every view now, before the heap is frozen
freeze_startup_heap()
