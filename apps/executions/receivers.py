from typing import Any

from django.db.models import Q, QuerySet

from apps.credits.services import credit_balances_lock
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


def lock_runs_of_deleted_graph(sender: Any, graph_id: Any, **kwargs: Any) -> None:
    """Before a graph's deletion collects its runs' rows: lock the runs. A worker writing a
    step (which raises its run's event counter), taking or ending a run updates that row, so
    it waits for the deletion and then finds the run gone, instead of committing rows the
    deletion did not collect, and failing its commit on the foreign keys they hold."""
    _lock(GraphExecution.objects.filter(graph_id=graph_id))


def lock_runs_of_deleted_users(sender: Any, user_ids: list[Any], **kwargs: Any) -> None:
    """Before users' deletion collects what is theirs: lock their runs and the runs of their
    graphs (as for a graph's deletion, above), then their balances, which a node's charge
    takes before it writes to the ledger. In that order: a run given up takes its row, then
    its user's balance for the refunds."""
    _lock(GraphExecution.objects.filter(Q(user_id__in=user_ids) | Q(graph__user_id__in=user_ids)))
    credit_balances_lock(user_ids=user_ids)


def _lock(runs: QuerySet[GraphExecution]) -> None:
    """Lock these runs' rows (only theirs, whatever the filter joins), in one order, so two
    deletions that share runs queue instead of deadlocking."""
    list(runs.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
