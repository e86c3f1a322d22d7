"""Reads of executions. Every fetch takes the user: another user's execution is NotFound."""

import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models import (
    Count,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)

from apps.common.exceptions import NotFound
from apps.executions.models import (
    ExecutionStatus,
    GraphExecution,
    NodeExecution,
    NodeExecutionOutput,
)
from apps.graphs import selectors as graph_selectors
from apps.graphs.models import GraphVersion
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


def node_execution_rows(*, execution: GraphExecution) -> list[dict[str, Any]]:
    """The run's node executions in order, each a dict of NodeExecutionSerializer's fields
    (raw values, `output_data` grouped by pin in yield order): two queries whatever their
    number, and no model instances (a run of 1,000 nodes answers in milliseconds)."""
    rows = list(
        NodeExecution.objects.filter(graph_execution_id=execution.pk)
        .order_by("sequence")
        .values(
            "id",
            "sequence",
            "status",
            "input_data",
            "error",
            "stats",
            "queued_at",
            "started_at",
            "ended_at",
            node_key=F("node__key"),
            block_id=F("node__block_id"),
        )
    )
    outputs: dict[uuid.UUID, dict[str, list[Any]]] = {}
    pins = (
        NodeExecutionOutput.objects.filter(node_execution__graph_execution_id=execution.pk)
        .order_by("node_execution_id", "position")
        .values_list("node_execution_id", "pin", "value")
    )
    for node_exec_id, pin, value in pins:
        outputs.setdefault(node_exec_id, {}).setdefault(pin, []).append(value)
    for row in rows:
        row["graph_exec_id"] = execution.pk
        row["node_id"] = row.pop("node_key")
        row["output_data"] = outputs.get(row["id"], {})
    return rows


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


FINISHED = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.TIMEOUT)


def graph_run_stats(*, user: User, graph_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Per graph, the user's run count, last run and success rate (completed / finished runs,
    None before the first finished run): one grouped query over the user's runs of those graphs
    (an index-only scan of `ge_user_graph_status_live`)."""
    if not graph_ids:
        return {}
    rows = (
        GraphExecution.objects.filter(user=user, is_deleted=False, graph_id__in=graph_ids)
        .order_by()
        .values("graph_id")
        .annotate(
            runs=Count("pk"),
            last=Max("created_at"),
            finished=Count("pk", filter=Q(status__in=FINISHED)),
            completed=Count("pk", filter=Q(status=ExecutionStatus.COMPLETED)),
        )
    )
    return {
        row["graph_id"]: {
            "execution_count": row["runs"],
            "last_execution_at": row["last"],
            "success_rate": row["completed"] / row["finished"] if row["finished"] else None,
        }
        for row in rows
    }


NO_RUNS = {"execution_count": 0, "last_execution_at": None, "success_rate": None}


class GraphsWithStats:
    """The graph list, paged lazily: counting asks only the graphs, and a slice (a page) gets
    its graphs' run statistics in one more query, so a page costs three queries whatever the
    number of graphs and runs. Works with `PagePagination` and Django's `Paginator`."""

    def __init__(self, *, user: User, versions: QuerySet[GraphVersion]) -> None:
        self.user = user
        self.versions = versions
        self.ordered = True  # Paginator's check: the queryset is ordered

    def count(self) -> int:
        return self.versions.count()

    def __len__(self) -> int:
        return self.count()

    def _with_stats(self, versions: list[GraphVersion]) -> list[GraphVersion]:
        stats = graph_run_stats(user=self.user, graph_ids=[v.graph_id for v in versions])
        for version in versions:
            for name, value in stats.get(version.graph_id, NO_RUNS).items():
                setattr(version, name, value)
        return versions

    def __getitem__(self, index: slice) -> list[GraphVersion]:
        if not isinstance(index, slice):
            raise TypeError("GraphsWithStats is read a page (a slice) at a time")
        return self._with_stats(list(self.versions[index]))

    def __iter__(self) -> Iterator[GraphVersion]:
        return iter(self._with_stats(list(self.versions)))


def graph_list_with_stats(*, user: User, templates: bool = False) -> GraphsWithStats:
    """The graph list with the user's run count, last run and success rate per graph."""
    return GraphsWithStats(
        user=user, versions=graph_selectors.graph_list(user=user, templates=templates)
    )
