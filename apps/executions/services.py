"""Writes of the web side of executions: start, stop, delete, share, a single block's run and
the housekeeping cleanup. Side effects (the Celery task, events) leave after commit. The worker
side (running a run) is apps.executions.worker."""

import secrets
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.common.exceptions import InsufficientCredits, ValidationFailed
from apps.common.rows import Columns
from apps.credits.selectors import credit_balance_get
from apps.executions import payloads, reviews, runtime, selectors
from apps.executions.engine import NodeExecutionRecord, initial_node_executions
from apps.executions.events import graph_execution_event_record
from apps.executions.lifecycle import announce_finished, send_run_task
from apps.executions.models import ExecutionStatus, GraphExecution
from apps.executions.sql import Batch
from apps.executions.tally import run_tally_delete, run_tally_rebuild
from apps.graphs.runnable import (
    Block,
    Credentials,
    RunnableGraph,
    block_cost_amount,
    block_execute,
    preset_get,
    runnable_version,
    uses_own_credentials,
)
from apps.realtime.events import publish
from apps.users.models import User


def graph_execution_start(
    *,
    user: User,
    graph_id: uuid.UUID | str,
    graph_version: int | None = None,
    inputs: dict[str, Any] | None = None,
    credentials_inputs: dict[str, Any] | None = None,
    preset_id: uuid.UUID | str | None = None,
    parent: GraphExecution | None = None,
    enqueue: bool = True,
    access_checked: bool = False,
    max_credits: int | None = None,
) -> GraphExecution:
    """Validate and create a run with its entry node executions; enqueue it after commit.

    Preset inputs are merged under the request's (the request wins). Invalid graphs or inputs
    raise GraphValidationFailed with node_errors and create nothing.

    The run belongs to `user` and is charged to them. `user` must own the graph (or it is a
    template) unless `access_checked`: then the caller has already established that `user` may
    run exactly `graph_id` at `graph_version` (the store's library), and the ownership check is
    skipped; the graph itself stays read-only to them.
    """
    preset, graph_version, inputs, credentials_inputs = _with_preset(
        user, graph_id, preset_id, graph_version, inputs or {}, credentials_inputs or {}
    )
    runnable = runnable_version(
        user=user,
        graph_id=graph_id,
        version=graph_version,
        inputs=inputs,
        credentials_inputs=credentials_inputs,
        access_checked=access_checked,
    )
    balance_check(user, runnable)
    execution = GraphExecution(
        graph_id=runnable.graph_id,
        graph_version=runnable.version,
        user=user,
        status=ExecutionStatus.QUEUED,
        inputs=payloads.jsonable(inputs),
        credentials_inputs=credentials_inputs,
        preset=preset,
        parent=parent,
        enqueued_at=timezone.now() if enqueue else None,
        max_credits=max_credits,
    )
    run_insert(execution, runnable, _entry_records(runnable, inputs), enqueue=enqueue)
    return execution


def new_record_id() -> str:
    return str(uuid.uuid4())


def _entry_records(runnable: RunnableGraph, inputs: dict[str, Any]) -> list[NodeExecutionRecord]:
    """A new run's entry node executions (SPEC §6)."""
    return initial_node_executions(
        runtime.engine_graph(runnable), inputs, now=time.time(), new_id=new_record_id
    )


_RUN_COLUMNS = Columns(GraphExecution, "e")


def run_insert(
    execution: GraphExecution,
    runnable: RunnableGraph,
    records: Sequence[NodeExecutionRecord],
    *,
    enqueue: bool = True,
) -> None:
    """INSERT the run and the node executions it starts with in one transaction; its event and
    its task leave after the commit."""
    with transaction.atomic(), connection.cursor() as cursor:
        # One round trip on PostgreSQL (sql.Batch): the run, its entry nodes, their events and
        # its own, whose `seq`s are known.
        batch = Batch(cursor)
        execution.event_seq = len(records) + 1
        _RUN_COLUMNS.insert(execution, execute=batch.add)  # no model signal listens to runs
        runtime.database_store(execution, runnable).commit(records, first_seq=1, batch=batch)
        created = graph_execution_event_record(execution, seq=execution.event_seq, batch=batch)
        batch.send()
        transaction.on_commit(lambda: publish(created))
        if enqueue:
            transaction.on_commit(lambda: send_run_task(execution.id))


def _with_preset(
    user: User,
    graph_id: uuid.UUID | str,
    preset_id: uuid.UUID | str | None,
    graph_version: int | None,
    inputs: dict[str, Any],
    credentials_inputs: dict[str, Any],
) -> tuple[Any, int | None, dict[str, Any], dict[str, Any]]:
    """A preset's graph version and inputs under the request's (the request wins)."""
    if preset_id is None:
        return None, graph_version, dict(inputs), dict(credentials_inputs)
    preset = preset_get(user=user, preset_id=preset_id)
    if str(preset.graph_id) != str(graph_id):
        raise ValidationFailed("The preset belongs to another graph.")
    return (
        preset,
        graph_version or preset.graph_version,
        {**preset.inputs, **inputs},
        {**preset.credentials_inputs, **credentials_inputs},
    )


def balance_check(user: User, runnable: RunnableGraph) -> None:
    """402 for an empty purse (SPEC §6): each node is still charged as it runs."""
    available = credit_balance_get(user_id=user.pk)
    if available <= 0:
        raise InsufficientCredits(
            required_credits=runnable.required_credits(), available_credits=available
        )


def block_execute_charged(
    *, user: User, block_id: str, data: dict[str, Any]
) -> dict[str, list[Any]]:
    """`POST blocks/{id}/execute`: 402 on an empty purse; the block's cost is charged once the
    input is valid, before the block runs (a refused charge is a 402 too)."""

    def charge(block: Block, credentials: Credentials) -> None:
        amount = 0 if uses_own_credentials(credentials) else block_cost_amount(block, data)
        available = credit_balance_get(user_id=user.pk)
        if available <= 0:
            raise InsufficientCredits(required_credits=max(1, amount), available_credits=available)
        if amount > 0:
            runtime.charge_usage(
                user_id=user.pk,
                amount=amount,
                key=f"block-run:{uuid.uuid4()}",
                description=f"Block run: {block.name}",
                metadata={"block_id": block.id},
            )

    return block_execute(user=user, block_id=block_id, data=data, before_run=charge)


def graph_execution_stop(
    *, user: User, graph_exec_id: uuid.UUID | str, graph_id: uuid.UUID | str | None = None
) -> GraphExecution:
    """Stop a run. A running one is told through Redis (every worker sees it) and ends
    `cancelled` at its next yield or sleep tick; one not started yet is cancelled here. A
    finished run is returned unchanged."""
    execution = selectors.graph_execution_get(
        user=user, graph_exec_id=graph_exec_id, graph_id=graph_id
    )
    if execution.is_terminal:
        return execution
    runtime.request_cancel(execution.id)
    # Not started, or waiting for a review (no worker holds it): cancelled right here.
    waiting = [ExecutionStatus.QUEUED, ExecutionStatus.INCOMPLETE, ExecutionStatus.REVIEW]
    with transaction.atomic():
        moved = GraphExecution.objects.filter(pk=execution.pk, status__in=waiting).update(
            status=ExecutionStatus.CANCELLED,
            ended_at=timezone.now(),
            error_message="The run was stopped.",
        )
        reviews.reviews_cancel(graph_exec_id=execution.pk)
        execution.refresh_from_db()
        if moved:
            execution.node_executions.filter(status__in=waiting).update(
                status=ExecutionStatus.CANCELLED, ended_at=timezone.now()
            )
            announce_finished(execution)
            final = graph_execution_event_record(execution)
    if moved:
        publish(final)
    return execution


def graph_execution_delete(*, user: User, graph_exec_id: uuid.UUID | str) -> None:
    """Soft delete: the run disappears from lists and lookups; a live one is stopped first."""
    execution = graph_execution_stop(user=user, graph_exec_id=graph_exec_id)
    run_tally_delete(execution.pk)


def graph_execution_share(
    *, user: User, graph_id: uuid.UUID | str, graph_exec_id: uuid.UUID | str
) -> GraphExecution:
    execution = selectors.graph_execution_get(
        user=user, graph_exec_id=graph_exec_id, graph_id=graph_id
    )
    if not execution.share_token:
        execution.share_token = secrets.token_urlsafe(24)
        execution.shared_at = timezone.now()
        execution.save(update_fields=["share_token", "shared_at"])
    return execution


def graph_execution_unshare(
    *, user: User, graph_id: uuid.UUID | str, graph_exec_id: uuid.UUID | str
) -> None:
    execution = selectors.graph_execution_get(
        user=user, graph_exec_id=graph_exec_id, graph_id=graph_id
    )
    GraphExecution.objects.filter(pk=execution.pk).update(share_token=None, shared_at=None)


def execution_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """Housekeeping beat task: share links older than EXECUTION_SHARE_LINK_DAYS stop working,
    and soft-deleted runs older than EXECUTION_PURGE_DELETED_DAYS are removed with their node
    executions. A setting of 0 keeps them forever. Idempotent."""
    now = now or timezone.now()
    unshared = purged = 0
    if settings.EXECUTION_SHARE_LINK_DAYS:
        unshared = GraphExecution.objects.filter(
            share_token__isnull=False,
            shared_at__lt=now - timedelta(days=settings.EXECUTION_SHARE_LINK_DAYS),
        ).update(share_token=None, shared_at=None)
    if settings.EXECUTION_PURGE_DELETED_DAYS:
        old = now - timedelta(days=settings.EXECUTION_PURGE_DELETED_DAYS)
        purging = GraphExecution.objects.filter(
            is_deleted=True, parent__isnull=True, created_at__lt=old
        )
        users = set(purging.values_list("user_id", flat=True))
        _, deleted = purging.delete()
        purged = deleted.get(GraphExecution._meta.label, 0)
        if purged:  # their sub-agent runs went with them, unlike a run deleted by its owner
            run_tally_rebuild(user_ids=users)
    return {"unshared": unshared, "purged": purged}
