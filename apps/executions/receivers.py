from typing import Any

from apps.executions import runtime
from apps.executions.models import ExecutionStatus, GraphExecution


def stop_runs_of_deleted_graph(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A graph's runs go with it (cascade); its live ones are told to stop first, so their
    workers end them quietly instead of writing steps of a run that no longer exists."""
    live = GraphExecution.objects.filter(
        graph_id=instance.pk,
        status__in=[ExecutionStatus.QUEUED, ExecutionStatus.RUNNING, ExecutionStatus.INCOMPLETE],
    ).values_list("pk", flat=True)
    for graph_exec_id in live:
        runtime.request_cancel(graph_exec_id)
