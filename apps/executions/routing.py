from django.urls import path

from apps.executions.consumers import PlatformConsumer

websocket_urlpatterns = [path("ws", PlatformConsumer.as_asgi())]
