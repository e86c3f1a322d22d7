from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"

    def ready(self) -> None:
        from apps.graphs.signals import graph_version_activated
        from apps.webhooks import receivers

        graph_version_activated.connect(
            receivers.on_graph_version_activated, dispatch_uid="webhooks.graph_version_activated"
        )
