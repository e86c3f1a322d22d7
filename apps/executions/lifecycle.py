"""A run's moves shared by the web side (services, reviews) and the worker (apps.executions.worker):
guarded status changes, sending the run's task, and telling the layers above that a run ended.

Status changes are guarded UPDATEs (SPEC §6): `... WHERE status IN (allowed sources)`, so two
processes racing on one execution cannot both move it.
"""

import uuid
from typing import Any

from celery import current_app
from django.utils import timezone

from apps.executions import signals
from apps.executions.models import ALLOWED_SOURCES, TERMINAL_STATUSES, GraphExecution
from apps.graphs.runnable import compiled_version

RUN_TASK = "executions.run_graph"
RUN_QUEUE = "executions"
# Runs resumed after a lost worker (SPEC §17): a queue of their own, which every worker that takes
# runs also takes (autogpt/celery.py), so a resumed run does not wait behind the runs queued
# after it started.
RESUME_QUEUE = "executions.resume"


def transition(graph_exec_id: uuid.UUID, target: str, **fields: Any) -> bool:
    """Move an execution to `target` if its current status allows it; True when it moved."""
    if target in TERMINAL_STATUSES:
        fields.setdefault("ended_at", timezone.now())
    moved = GraphExecution.objects.filter(
        pk=graph_exec_id, status__in=ALLOWED_SOURCES[target]
    ).update(status=target, **fields)
    return bool(moved)


def send_run_task(
    graph_exec_id: uuid.UUID, *, countdown: float | None = None, queue: str = RUN_QUEUE
) -> None:
    current_app.send_task(RUN_TASK, args=[str(graph_exec_id)], queue=queue, countdown=countdown)


def enqueue_run(
    graph_exec_id: uuid.UUID, *, countdown: float | None = None, queue: str = RUN_QUEUE
) -> None:
    """Send the run's task again (the watchdog, the cap, a review decided); `enqueued_at` tells
    when."""
    GraphExecution.objects.filter(pk=graph_exec_id).update(enqueued_at=timezone.now())
    send_run_task(graph_exec_id, countdown=countdown, queue=queue)


def announce_finished(execution: GraphExecution) -> None:
    """`graph_execution_finished`, for the layers above, sent inside the transaction that ends
    the run: what receivers write commits with the final status or not at all, so nothing of a
    run's end is written after the run shows finished. Runs on every run's path: without
    receivers it costs one check."""
    if not signals.graph_execution_finished.has_listeners():
        return
    started, ended = execution.started_at, execution.ended_at or timezone.now()
    signals.graph_execution_finished.send(
        None,
        execution_id=execution.pk,
        user_id=execution.user_id,
        graph_id=execution.graph_id,
        graph_version=execution.graph_version,
        # From the compiled graph the worker holds: no query on a run's path.
        graph_name=compiled_version(execution.graph_id, execution.graph_version).name,
        status=str(execution.status),
        node_error_count=int(execution.stats.get("node_error_count", 0)),
        error_message=execution.error_message,  # the first failed node's (apps.executions.outcome)
        cost=int(execution.stats.get("cost", 0)),
        duration_seconds=max(0.0, (ended - started).total_seconds()) if started else 0.0,
        parent_id=execution.parent_id,
    )
