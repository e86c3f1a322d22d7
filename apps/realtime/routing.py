from typing import Any, cast

from django.urls import path

from apps.realtime.consumers import PlatformConsumer

# path() is typed for views; Channels routes ASGI applications with it.
websocket_urlpatterns = [path("ws", cast(Any, PlatformConsumer.as_asgi()))]
