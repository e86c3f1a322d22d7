from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "apps.store"

    def ready(self) -> None:
        from apps.graphs.selectors import version_grant_register
        from apps.store.selectors import graph_version_grant

        # An agent in your library is the creator's graph: you may read that exact version.
        version_grant_register(graph_version_grant)
