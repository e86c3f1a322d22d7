from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """`/ws` (SPEC §8): the socket, its subscriptions and the publisher the apps above send
    their events through. It knows no app above it: they register what may be subscribed to
    (apps.realtime.topics)."""

    name = "apps.realtime"
