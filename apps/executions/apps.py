from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "apps.executions"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from apps.executions.events import topics_register
        from apps.executions.receivers import (
            lock_runs_of_deleted_graph,
            lock_runs_of_deleted_users,
            stop_runs_of_deleted_graph,
        )
        from apps.executions.selectors import graph_list_with_stats
        from apps.graphs.runnable import Graph, graph_deleting, run_statistics_install
        from apps.users.signals import users_deleting

        pre_delete.connect(stop_runs_of_deleted_graph, sender=Graph, dispatch_uid="graph-runs-stop")
        graph_deleting.connect(lock_runs_of_deleted_graph, dispatch_uid="graph-runs-lock")
        users_deleting.connect(lock_runs_of_deleted_users, dispatch_uid="user-runs-lock")
        topics_register()
        # The run statistics of `GET /api/graphs` (served by graphs, a layer below).
        run_statistics_install(graph_list_with_stats)
