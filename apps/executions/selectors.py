"""Reads of executions. Every fetch takes the user: another user's execution is NotFound."""

import uuid

from django.db.models import (
    Count,
    F,
    FloatField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf

from apps.common.exceptions import NotFound
from apps.executions.models import ExecutionStatus, GraphExecution, NodeExecution
from apps.graphs.runnable import GraphVersion, graph_list
from apps.users.models import User


def _uuid(value: uuid.UUID | str, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"{what} not found.") from None


def graph_execution_list(
    *, user: User, graph_id: uuid.UUID | str | None = None, status: str | None = None
) -> QuerySet[GraphExecution]:
    executions = GraphExecution.objects.filter(user=user, is_deleted=False)
    if graph_id is not None:
        executions = executions.filter(graph_id=_uuid(graph_id, "Graph"))
    if status:
        executions = executions.filter(status=status)
    return executions.order_by("-created_at")


def graph_execution_get(
    *, user: User, graph_exec_id: uuid.UUID | str, graph_id: uuid.UUID | str | None = None
) -> GraphExecution:
    executions = GraphExecution.objects.filter(
        user=user, is_deleted=False, pk=_uuid(graph_exec_id, "Execution")
    )
    if graph_id is not None:
        executions = executions.filter(graph_id=_uuid(graph_id, "Graph"))
    execution = executions.first()
    if execution is None:
        raise NotFound("Execution not found.")
    return execution


def graph_execution_get_detailed(*, user: User, graph_exec_id: uuid.UUID | str) -> GraphExecution:
    """With node executions, their nodes and outputs prefetched (three queries in all)."""
    execution = graph_execution_get(user=user, graph_exec_id=graph_exec_id)
    node_executions = NodeExecution.objects.select_related("node").prefetch_related("outputs")
    return (
        GraphExecution.objects.filter(pk=execution.pk)
        .prefetch_related(
            Prefetch("node_executions", queryset=node_executions.order_by("sequence"))
        )
        .get()
    )


def graph_execution_get_shared(*, share_token: str) -> GraphExecution:
    if not share_token:
        raise NotFound("Shared execution not found.")
    execution = (
        GraphExecution.objects.filter(share_token=share_token, is_deleted=False)
        .annotate(
            graph_name=Subquery(
                GraphVersion.objects.filter(
                    graph_id=OuterRef("graph_id"), version=OuterRef("graph_version")
                ).values("name")[:1]
            )
        )
        .first()
    )
    if execution is None:
        raise NotFound("Shared execution not found.")
    return execution


def graph_list_with_stats(*, user: User, templates: bool = False) -> QuerySet[GraphVersion]:
    """The graph list with the user's run count, last run and success rate per graph.

    Still one query: the statistics are correlated subqueries on the executions index.
    """
    runs = GraphExecution.objects.filter(
        graph_id=OuterRef("graph_id"), user=user, is_deleted=False
    ).order_by()
    per_graph = runs.values("graph_id")
    finished = Q(
        status__in=[
            s.value
            for s in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.TIMEOUT)
        ]
    )
    return (
        graph_list(user=user, templates=templates)
        .annotate(
            execution_count=Coalesce(
                Subquery(per_graph.annotate(n=Count("pk")).values("n")[:1]), Value(0)
            ),
            last_execution_at=Subquery(
                per_graph.annotate(last=Max("created_at")).values("last")[:1]
            ),
            finished_count=Coalesce(
                Subquery(per_graph.filter(finished).annotate(n=Count("pk")).values("n")[:1]),
                Value(0),
            ),
            completed_count=Coalesce(
                Subquery(
                    per_graph.filter(status=ExecutionStatus.COMPLETED)
                    .annotate(n=Count("pk"))
                    .values("n")[:1]
                ),
                Value(0),
            ),
        )
        .annotate(
            success_rate=Cast(F("completed_count"), FloatField())
            / NullIf(Cast(F("finished_count"), FloatField()), Value(0.0))
        )
    )
