"""The writes that end a worker's hold on a run: the guarded UPDATE to its result, giving up
(failed, its live node executions cancelled) and handing the lease back."""

import uuid
from datetime import datetime
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import F, Field
from django.utils import timezone

from apps.common.json_limits import storable
from apps.credits.selectors import credit_usage_for_run, credit_usage_keys_for_run
from apps.credits.services import credit_refund_charges
from apps.executions import metrics, outcome
from apps.executions.engine.types import RunResult
from apps.executions.events import graph_execution_event_record
from apps.executions.lifecycle import announce_finished, transition
from apps.executions.models import ALLOWED_SOURCES, ExecutionStatus, GraphExecution
from apps.executions.payloads import jsonable
from apps.executions.sql import execute_relaxed
from apps.graphs.runnable import RunnableGraph
from apps.realtime.events import publish

_FINISH_FIELDS = (
    "status",
    "outputs",
    "stats",
    "error_message",
    "has_errors",
    "ended_at",
    "lease_owner",
    "lease_expires_at",
)
_FINISH = (
    f"UPDATE {GraphExecution._meta.db_table}"
    f" SET {', '.join(f'{name} = %s' for name in _FINISH_FIELDS)}"
    " WHERE id = %s AND lease_owner = %s AND status IN ({sources})"
)
_LIVE = [ExecutionStatus.QUEUED, ExecutionStatus.INCOMPLETE, ExecutionStatus.RUNNING]


def run_cost(execution: GraphExecution, compiled: RunnableGraph) -> int:
    """What the run spent, from the ledger, its sub-agent runs' costs rolled up."""
    cost = credit_usage_for_run(graph_exec_id=execution.pk) if compiled.has_prices else 0
    if compiled.has_sub_agents:
        children = GraphExecution.objects.filter(parent=execution).values_list("stats", flat=True)
        cost += sum(child.get("cost", 0) for child in children)
    return cost


def result_values(
    execution: GraphExecution, result: RunResult, *, cost: int, now: datetime
) -> dict[str, Any]:
    """The run's row as the result leaves it, its honest outcome included (apps.executions.
    outcome); a run waiting for a review is not ended."""
    assert result.status is not None
    waits = result.status.value == ExecutionStatus.REVIEW
    values: dict[str, Any] = {
        "status": result.status.value,
        "outputs": jsonable(result.outputs),
        "stats": {
            **execution.stats,
            "node_count": result.node_count,
            "node_error_count": result.node_error_count,
            "wall_time": result.wall_time,
            "cost": cost,
            **({"review_paused_at": now.timestamp()} if waits else {}),
        },
        "error_message": storable(result.error_message or ""),
        "ended_at": None if waits else now,
        "lease_owner": "",
        "lease_expires_at": None,
    }
    values.update(outcome.finish_fields(execution.pk, result))
    return values


def result_write(pk: uuid.UUID, owner: str, values: dict[str, Any]) -> bool:
    """The guarded UPDATE to the result, only by the lease holder (plain SQL, as the lease),
    inside the caller's transaction."""
    meta = GraphExecution._meta
    fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in _FINISH_FIELDS]
    params = [field.get_db_prep_save(values[field.name], connection) for field in fields]
    sources = ALLOWED_SOURCES[values["status"]]
    sql = _FINISH.format(sources=", ".join(["%s"] * len(sources)))
    with connection.cursor() as cursor:
        execute_relaxed(
            cursor, sql, [*params, meta.pk.get_db_prep_value(pk, connection), owner, *sources]
        )
        return bool(cursor.rowcount == 1)


def give_up(execution: GraphExecution, message: str) -> None:
    """Fail the run now: its live node executions are cancelled and what they paid is given
    back (SPEC §17: lost to the platform, not to their blocks); the final event follows the
    commit."""
    with transaction.atomic():
        moved = transition(
            execution.pk, ExecutionStatus.FAILED, error_message=message, lease_owner=""
        )
        if moved:
            execution.refresh_from_db()
            execution.node_executions.filter(status__in=_LIVE).update(
                status=ExecutionStatus.CANCELLED, ended_at=timezone.now()
            )
            refund_unfinished(execution)
            announce_finished(execution)
            final = graph_execution_event_record(execution)
    if moved:
        publish(final)
        metrics.record_run(status=ExecutionStatus.FAILED, seconds=0.0)


_FINISHED_NODES = [ExecutionStatus.COMPLETED, ExecutionStatus.FAILED]


def refund_unfinished(execution: GraphExecution) -> None:
    """Refund every charge of the run's node executions that did not finish: those keyed
    `node:<id>…` whose execution is not completed or failed (an execution charged but lost
    before its first commit has no row at all). Each once (credit_refund_charges)."""
    finished = {
        str(pk)
        for pk in execution.node_executions.filter(status__in=_FINISHED_NODES).values_list(
            "pk", flat=True
        )
    }
    lost = {
        key.split(":")[1]
        for key in credit_usage_keys_for_run(graph_exec_id=execution.pk)
        if key.startswith("node:")
    }
    for node_exec_id in sorted(lost - finished):
        credit_refund_charges(user_id=execution.user_id, key=f"node:{node_exec_id}")


def lease_release(execution: GraphExecution, owner: str) -> bool:
    """Give the lease back for another worker to resume the run at once. Not a lost worker, so
    it does not count towards EXECUTION_MAX_ATTEMPTS."""
    released = GraphExecution.objects.filter(
        pk=execution.pk, lease_owner=owner, status=ExecutionStatus.RUNNING
    ).update(lease_owner="", lease_expires_at=timezone.now(), attempts=F("attempts") - 1)
    return bool(released)
