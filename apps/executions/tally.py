"""The graph list's run statistics at a constant cost, whatever a user's history (issue 23).

A finished run never changes status again, so beat folds finished runs into one GraphRunTally
row per (user, graph) a batch at a time (`run_tally_fold`), marking each `tallied`; the
statistics add that row to the few runs not folded yet, in one statement (one snapshot). Nothing
is added to a run's own path: no counter row is locked while runs start or end.

Every change to the tallies (a fold, a deleted run taken out, a rebuild) holds one lock, so they
never interleave: a PostgreSQL transaction-scoped advisory lock; SQLite's writers are serialised
anyway.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest

from apps.executions.models import (
    TERMINAL_STATUSES,
    ExecutionStatus,
    GraphExecution,
    GraphRunTally,
)

FINISHED = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.TIMEOUT)
_LOCK_KEY = 7_231_900_023  # the advisory lock of the tallies (any constant of our own)
_BATCH = 2000

Figures = dict[str, Any]


def _tally_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _counted(runs: QuerySet[GraphExecution]) -> QuerySet[Any]:
    """These runs counted per (user, graph): rows of `_COUNTED`."""
    return runs.order_by().values("user_id", "graph_id").annotate(**_COUNTS).values_list(*_COUNTED)


def run_tally_fold(*, batch: int = _BATCH) -> int:
    """Fold finished runs into their tallies, `batch` a transaction, until none is left; answers
    how many. Idempotent: a run is folded once (`tallied`)."""
    folded = 0
    while True:
        with transaction.atomic():
            _tally_lock()
            ids = list(
                GraphExecution.objects.filter(
                    tallied=False, is_deleted=False, status__in=TERMINAL_STATUSES
                )
                .order_by()
                .values_list("pk", flat=True)[:batch]
            )
            for user_id, graph_id, runs, finished, completed, last in _counted(
                GraphExecution.objects.filter(pk__in=ids)
            ):
                updated = GraphRunTally.objects.filter(user_id=user_id, graph_id=graph_id).update(
                    runs=F("runs") + runs,
                    finished=F("finished") + finished,
                    completed=F("completed") + completed,
                    last_run_at=Greatest(Coalesce(F("last_run_at"), last), last),
                )
                if not updated:
                    _tally(user_id, graph_id, runs, finished, completed, last).save()
            GraphExecution.objects.filter(pk__in=ids).update(tallied=True)
        folded += len(ids)
        if len(ids) < batch:
            return folded


def _tally(
    user_id: Any, graph_id: Any, runs: int, finished: int, completed: int, last: datetime | None
) -> GraphRunTally:
    return GraphRunTally(
        user_id=user_id,
        graph_id=graph_id,
        runs=runs,
        finished=finished,
        completed=completed,
        last_run_at=last,
    )


def run_tally_delete(graph_exec_id: uuid.UUID) -> None:
    """Soft-delete a run, taking it out of its tally if it was folded (its last run looked up
    again among the folded ones: one index probe)."""
    with transaction.atomic():
        _tally_lock()
        run = (
            GraphExecution.objects.filter(pk=graph_exec_id, is_deleted=False)
            .values("tallied", "user_id", "graph_id", "status")
            .first()
        )
        GraphExecution.objects.filter(pk=graph_exec_id).update(is_deleted=True, share_token=None)
        if run is None or not run["tallied"]:
            return
        pair = {"user_id": run["user_id"], "graph_id": run["graph_id"]}
        last = (
            GraphExecution.objects.filter(**pair, tallied=True, is_deleted=False)
            .order_by("-created_at")
            .values("created_at")[:1]
        )
        GraphRunTally.objects.filter(**pair).update(
            runs=F("runs") - 1,
            finished=F("finished") - int(run["status"] in FINISHED),
            completed=F("completed") - int(run["status"] == ExecutionStatus.COMPLETED),
            last_run_at=Subquery(last),
        )


def run_tally_rebuild(*, user_ids: Iterable[Any]) -> None:
    """Count these users' tallies again from their folded runs: after runs went without
    passing through run_tally_delete (a purge's cascade to sub-agent runs)."""
    user_ids = list(user_ids)
    with transaction.atomic():
        _tally_lock()
        GraphRunTally.objects.filter(user_id__in=user_ids).delete()
        folded = GraphExecution.objects.filter(user_id__in=user_ids, tallied=True, is_deleted=False)
        GraphRunTally.objects.bulk_create(_tally(*row) for row in _counted(folded))


_COUNTED = ("user_id", "graph_id", "runs", "finished", "completed", "last")
_COUNTS = {
    "runs": Count("pk"),
    "finished": Count("pk", filter=Q(status__in=FINISHED)),
    "completed": Count("pk", filter=Q(status=ExecutionStatus.COMPLETED)),
    "last": Max("created_at"),
}


def _later(first: datetime | None, second: datetime | None) -> datetime | None:
    return second if first is None else first if second is None else max(first, second)


def graph_run_stats(*, user: Any, graph_ids: list[uuid.UUID]) -> dict[uuid.UUID, Figures]:
    """Per graph, the user's run count, last run and success rate (completed / finished runs,
    None before the first finished run): their tallies and their runs not folded yet (an index
    of its own), one statement."""
    if not graph_ids:
        return {}
    unfolded = _counted(
        GraphExecution.objects.filter(
            user=user, graph_id__in=graph_ids, is_deleted=False, tallied=False
        )
    )
    tallies = (
        GraphRunTally.objects.filter(user=user, graph_id__in=graph_ids)
        .annotate(last=F("last_run_at"))
        .values_list(*_COUNTED)
    )
    sums: dict[uuid.UUID, list[Any]] = {}
    for _, graph_id, runs, finished, completed, last in unfolded.union(tallies, all=True):
        figures = sums.setdefault(graph_id, [0, 0, 0, None])
        figures[0] += runs
        figures[1] += finished
        figures[2] += completed
        figures[3] = _later(figures[3], last)
    return {
        graph_id: {
            "execution_count": runs,
            "last_execution_at": last,
            "success_rate": completed / finished if finished else None,
        }
        for graph_id, (runs, finished, completed, last) in sums.items()
        if runs
    }
