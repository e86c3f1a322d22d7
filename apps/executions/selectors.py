"""Reads of executions. Every fetch takes the user: another user's execution is NotFound."""

import base64
import datetime
import json
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.models import (
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)

from apps.common.exceptions import NotFound, ValidationFailed
from apps.executions.models import (
    GraphExecution,
    NodeExecution,
    NodeExecutionOutput,
)
from apps.executions.tally import graph_run_stats
from apps.graphs.runnable import GraphVersion, graph_list
from apps.users.models import User


def _uuid(value: uuid.UUID | str, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"{what} not found.") from None


def graph_execution_list(
    *,
    user: User,
    graph_id: uuid.UUID | str | None = None,
    status: str | None = None,
    has_errors: bool | None = None,
) -> QuerySet[GraphExecution]:
    executions = GraphExecution.objects.filter(user=user, is_deleted=False)
    if graph_id is not None:
        executions = executions.filter(graph_id=_uuid(graph_id, "Graph"))
    if status:
        executions = executions.filter(status=status)
    if has_errors is not None:
        executions = executions.filter(has_errors=has_errors)
    return executions.order_by("-created_at", "-id")


# Counted exactly up to this many rows; beyond, the database's estimate is the total.
EXACT_COUNT_LIMIT = 10_000
# From this offset on, a page reads the ids from the index first, then only its rows.
DEEP_OFFSET = 1000


def estimated_count(queryset: QuerySet) -> tuple[int, bool]:
    """(total, is_estimate): an exact count while it is at most EXACT_COUNT_LIMIT (a bounded
    index-only scan), else PostgreSQL's planner estimate, which costs no scan at all. Other
    databases count exactly."""
    exact = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
    if exact <= EXACT_COUNT_LIMIT or connection.vendor != "postgresql":
        return (exact if exact <= EXACT_COUNT_LIMIT else queryset.count()), False
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return max(int(plan[0]["Plan"]["Plan Rows"]), exact), True


class RunList:
    """A run list read a page (a slice) at a time with a bounded cost whatever the history:
    `count()` is exact up to EXACT_COUNT_LIMIT and estimated beyond (`is_estimate` says which);
    a deep page reads its ids from the index (an index-only scan) and then only its rows; and
    `after(cursor)` continues from a page's last run (keyset), for pages at constant cost.
    Works with `PagePagination` and Django's `Paginator`."""

    ordered = True  # for Paginator: the runs are ordered newest first

    def __init__(self, runs: QuerySet[GraphExecution]) -> None:
        self.runs = runs
        self.is_estimate = False
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count, self.is_estimate = estimated_count(self.runs)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[GraphExecution]:
        if not isinstance(index, slice):
            raise TypeError("RunList is read a page (a slice) at a time")
        if (index.start or 0) < DEEP_OFFSET:
            return list(self.runs[index])
        ids = list(self.runs.values_list("pk", flat=True)[index])
        found = self.runs.filter(pk__in=ids).in_bulk()
        return [found[pk] for pk in ids if pk in found]

    def __iter__(self) -> Iterator[GraphExecution]:
        return iter(self.runs)

    def after(self, cursor: str) -> "RunList":
        """The runs after the one `cursor` names (see `cursor_of`), newest first."""
        created_at, pk = parse_cursor(cursor)
        # (created_at, id) < (c, i), written so the index range is on created_at ≤ c
        older = Q(created_at__lte=created_at) & (Q(created_at__lt=created_at) | Q(pk__lt=pk))
        return RunList(self.runs.filter(older))


def cursor_of(run: GraphExecution) -> str:
    """An opaque position in a run list: its run's (created_at, id)."""
    raw = f"{run.created_at.isoformat()}|{run.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_cursor(cursor: str) -> tuple[datetime.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, pk = raw.split("|")
        when = datetime.datetime.fromisoformat(created_at)
        if when.tzinfo is None:
            raise ValueError
        return when, uuid.UUID(pk)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "cursor is not one this list gave (next_cursor).",
            details={"fields": {"cursor": cursor[:100]}},
        ) from None


def graph_execution_pages(
    *,
    user: User,
    graph_id: uuid.UUID | str | None = None,
    status: str | None = None,
    has_errors: bool | None = None,
) -> RunList:
    """`graph_execution_list` for paging at scale (the API's and the dashboard's run lists)."""
    return RunList(
        graph_execution_list(user=user, graph_id=graph_id, status=status, has_errors=has_errors)
    )


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
    # dict(): the stubs type .values() rows as a closed TypedDict; these get keys added.
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in NodeExecution.objects.filter(graph_execution_id=execution.pk)
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
    ]
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
    return GraphsWithStats(user=user, versions=graph_list(user=user, templates=templates))
