"""Writes for executions: start, run (worker side), stop, delete, share, and the watchdog.

Status changes are guarded UPDATEs (SPEC §6): `... WHERE status IN (allowed sources)`, so two
processes racing on one execution cannot both move it. Side effects (the Celery task, events)
leave after commit.
"""

import logging
import secrets
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from apps.common.exceptions import (
    GraphValidationFailed,
    InsufficientCredits,
    NotFound,
    ValidationFailed,
)
from apps.common.json_limits import storable
from apps.common.logging import user_context_set
from apps.credits.selectors import credit_balance_get, credit_usage_for_run
from apps.executions import drain, events, metrics, outcome, reviews, runtime, selectors, signals
from apps.executions.engine import EngineSettings, Ports, initial_node_executions, run_graph
from apps.executions.engine.types import RunResult
from apps.executions.models import (
    ALLOWED_SOURCES,
    TERMINAL_STATUSES,
    ExecutionStatus,
    GraphExecution,
)
from apps.executions.store import relax_durability
from apps.graphs import selectors as graph_selectors
from apps.graphs.analysis import graph_cost_estimate
from apps.graphs.blocks.base import Block
from apps.graphs.blocks.context import CancelToken
from apps.graphs.costs import block_cost_amount
from apps.graphs.models import Graph
from apps.graphs.runtime import (
    Credentials,
    block_execute,
    credentials_selection_check,
    node_credentials_check,
    selected_credential,
    uses_own_credentials,
)
from apps.graphs.services import CREDENTIALS_METADATA_KEY, check_run_inputs
from apps.graphs.validation import graph_errors_for_run
from apps.users.models import User

logger = logging.getLogger(__name__)
RUN_TASK = "executions.run_graph"
# Errors of a service that is down for a while: a run they stop is resumed, not failed.
_UNAVAILABLE = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


def _transition(graph_exec_id: uuid.UUID, target: str, **fields: Any) -> bool:
    """Move an execution to `target` if its current status allows it; True when it moved."""
    if target in TERMINAL_STATUSES:
        fields.setdefault("ended_at", timezone.now())
    moved = GraphExecution.objects.filter(
        pk=graph_exec_id, status__in=ALLOWED_SOURCES[target]
    ).update(status=target, **fields)
    return bool(moved)


def _send_run_task(graph_exec_id: uuid.UUID, *, countdown: float | None = None) -> None:
    current_app.send_task(
        RUN_TASK, args=[str(graph_exec_id)], queue="executions", countdown=countdown
    )


def enqueue_run(graph_exec_id: uuid.UUID, *, countdown: float | None = None) -> None:
    """Send the run's task again (the watchdog, the cap); `enqueued_at` tells when."""
    GraphExecution.objects.filter(pk=graph_exec_id).update(enqueued_at=timezone.now())
    _send_run_task(graph_exec_id, countdown=countdown)


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
    inputs = dict(inputs or {})
    credentials_inputs = dict(credentials_inputs or {})
    preset = None
    if preset_id is not None:
        preset = graph_selectors.preset_get(user=user, preset_id=preset_id)
        if str(preset.graph_id) != str(graph_id):
            raise ValidationFailed("The preset belongs to another graph.")
        graph_version = graph_version or preset.graph_version
        inputs = {**preset.inputs, **inputs}
        credentials_inputs = {**preset.credentials_inputs, **credentials_inputs}
    graph_id, graph_version, compiled = graph_run_check(
        user=user,
        graph_id=graph_id,
        graph_version=graph_version,
        inputs=inputs,
        credentials_inputs=credentials_inputs,
        access_checked=access_checked,
    )
    _check_balance(user, compiled)
    with transaction.atomic():
        execution = GraphExecution.objects.create(
            graph_id=graph_id,
            graph_version=graph_version,
            user=user,
            status=ExecutionStatus.QUEUED,
            inputs=runtime.jsonable(inputs),
            credentials_inputs=credentials_inputs,
            preset=preset,
            parent=parent,
            enqueued_at=timezone.now() if enqueue else None,
            max_credits=max_credits,  # SPEC §17 budget cap: stored, not yet enforced
        )
        records = initial_node_executions(
            compiled.graph, inputs, now=time.time(), new_id=lambda: str(uuid.uuid4())
        )
        runtime.database_store(execution, compiled).commit(records)
        transaction.on_commit(lambda: events.publish(runtime.graph_execution_event(execution)))
        if enqueue:
            transaction.on_commit(lambda: _send_run_task(execution.id))
    return execution


def graph_run_check(
    *,
    user: User,
    graph_id: uuid.UUID | str,
    graph_version: int | None,
    inputs: dict[str, Any],
    credentials_inputs: dict[str, Any],
    access_checked: bool = False,
) -> tuple[uuid.UUID, int, runtime.CompiledGraph]:
    """What a run start validates, without starting anything (schedules check it at creation):
    input shapes, a version the user may see (unless `access_checked`, see
    graph_execution_start), and the run-time graph rules (400 with `node_errors`). Returns the
    resolved graph id, version number and compiled graph."""
    check_run_inputs(inputs)
    check_run_inputs(credentials_inputs, what="credentials_inputs")
    credentials_selection_check(user_id=user.pk, selection=credentials_inputs)
    if access_checked:
        if graph_version is None:
            raise ValueError("access_checked needs the exact graph version")
        graph_id = uuid.UUID(str(graph_id))
    else:
        graph_id, graph_version = graph_selectors.graph_version_resolve(
            user=user, graph_id=graph_id, version=graph_version
        )
    compiled = runtime.compiled_graph(graph_id, graph_version)
    node_errors = graph_errors_for_run(compiled.spec, inputs)
    for node in compiled.graph.nodes:
        provider = node.block.credentials_provider
        chosen = selected_credential(credentials_inputs, node.id, provider or "")
        if chosen and provider:
            reason = node_credentials_check(user_id=user.pk, block=node.block, credential_id=chosen)
            if reason:
                node_errors.setdefault(node.id, {})[CREDENTIALS_METADATA_KEY] = reason
    if node_errors:
        raise GraphValidationFailed(node_errors)
    return graph_id, graph_version, compiled


def _announce_finished(execution: GraphExecution) -> None:
    """`graph_execution_finished`, for the layers above, sent inside the transaction that ends
    the run: what receivers write commits with the final status or not at all, so nothing of a
    run's end is written after the run shows finished. Runs on every run's path: without
    receivers it costs one check."""
    if not signals.graph_execution_finished.has_listeners():
        return
    started, ended = execution.started_at, execution.ended_at or timezone.now()
    payload = {
        "execution_id": execution.pk,
        "user_id": execution.user_id,
        "graph_id": execution.graph_id,
        "graph_version": execution.graph_version,
        # From the compiled graph the worker holds: no query on a run's path.
        "graph_name": runtime.compiled_graph(execution.graph_id, execution.graph_version).name,
        "status": str(execution.status),
        "node_error_count": int(execution.stats.get("node_error_count", 0)),
        "error_message": execution.error_message,  # SPEC §17 hook: the first failed node's
        "cost": int(execution.stats.get("cost", 0)),
        "duration_seconds": max(0.0, (ended - started).total_seconds()) if started else 0.0,
        "parent_id": execution.parent_id,
    }
    signals.graph_execution_finished.send(None, **payload)


def _check_balance(user: User, compiled: runtime.CompiledGraph) -> None:
    """402 for an empty purse (SPEC §6): each node is still charged as it runs."""
    available = credit_balance_get(user_id=user.pk)
    if available <= 0:
        required = max(1, graph_cost_estimate(compiled.spec)["total_credits"])
        raise InsufficientCredits(required_credits=required, available_credits=available)


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
            _announce_finished(execution)
    if moved:
        events.publish(runtime.graph_execution_event(execution))
    return execution


def graph_execution_delete(*, user: User, graph_exec_id: uuid.UUID | str) -> None:
    """Soft delete: the run disappears from lists and lookups; a live one is stopped first."""
    execution = graph_execution_stop(user=user, graph_exec_id=graph_exec_id)
    GraphExecution.objects.filter(pk=execution.pk).update(is_deleted=True, share_token=None)


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
        _, deleted = GraphExecution.objects.filter(
            is_deleted=True, parent__isnull=True, created_at__lt=old
        ).delete()
        purged = deleted.get(GraphExecution._meta.label, 0)
    return {"unshared": unshared, "purged": purged}


# --- the worker side ------------------------------------------------------------------------


_EXECUTIONS = GraphExecution._meta.db_table
# With what a block's context needs of the user (the rest of the user loads if used).
_SELECT_EXECUTION = (
    f"SELECT e.*, u.timezone AS user_timezone FROM {_EXECUTIONS} e"
    f" JOIN {User._meta.db_table} u ON u.id = e.user_id WHERE e.id = %s"
)
_LOCK_GRAPH = f"SELECT id FROM {Graph._meta.db_table} WHERE id = %s FOR UPDATE"
_COUNT_RUNNING = (
    f"SELECT COUNT(*) FROM {_EXECUTIONS} WHERE graph_id = %s AND user_id = %s"
    " AND status = %s AND lease_expires_at > %s AND id <> %s"
)
# A resumed run keeps its first start: the time limit counts from there.
_TAKE_LEASE = (
    f"UPDATE {_EXECUTIONS} SET status = %s, lease_owner = %s, lease_expires_at = %s,"
    " attempts = attempts + 1, started_at = COALESCE(started_at, %s)"
    " WHERE id = %s AND status IN (%s, %s) AND (lease_expires_at IS NULL OR lease_expires_at < %s)"
)


def _acquire(
    graph_exec_id: uuid.UUID, owner: str, *, enforce_cap: bool
) -> tuple[str, GraphExecution | None]:
    """Take the run for this worker: "acquired", "capped" (too many runs of this graph by its
    user are running; try later), "leased" (another worker holds an unexpired lease) or "gone"
    (finished).

    Plain SQL: this runs once per run, and building the ORM's queries cost more than running
    them. Values are prepared by the model fields, so it stays portable to SQLite."""
    now = timezone.now()
    meta = GraphExecution._meta
    pk = meta.pk.get_db_prep_value(graph_exec_id, connection)
    when = meta.get_field("lease_expires_at").get_db_prep_value
    with transaction.atomic(savepoint=False):
        execution = next(iter(GraphExecution.objects.raw(_SELECT_EXECUTION, [pk])), None)
        if execution is None or execution.is_terminal:
            return "gone", None
        user_pk = meta.get_field("user").get_db_prep_value(execution.user_id, connection)
        with connection.cursor() as cursor:
            relax_durability(cursor)
            if enforce_cap:
                graph_pk = meta.get_field("graph").get_db_prep_value(execution.graph_id, connection)
                # Serialise acquisitions per graph so the cap cannot be overshot by a race
                # (SQLite's immediate transactions serialise them anyway).
                if connection.features.has_select_for_update:
                    cursor.execute(_LOCK_GRAPH, [graph_pk])
                cursor.execute(
                    _COUNT_RUNNING,
                    [graph_pk, user_pk, ExecutionStatus.RUNNING, when(now, connection), pk],
                )
                if cursor.fetchone()[0] >= settings.EXECUTION_MAX_RUNNING_PER_GRAPH:
                    return "capped", None
            expires = now + timedelta(seconds=settings.EXECUTION_LEASE_SECONDS)
            cursor.execute(
                _TAKE_LEASE,
                [
                    ExecutionStatus.RUNNING,
                    owner,
                    when(expires, connection),
                    when(now, connection),
                    pk,
                    ExecutionStatus.QUEUED,
                    ExecutionStatus.RUNNING,
                    when(now, connection),
                ],
            )
            if cursor.rowcount != 1:
                leased = GraphExecution.objects.filter(
                    pk=graph_exec_id, status=ExecutionStatus.RUNNING, lease_expires_at__gte=now
                ).exists()
                return ("leased" if leased else "gone"), None
        execution.user = User.from_db(
            connection.alias, ["id", "timezone"], [execution.user_id, execution.user_timezone]
        )
    execution.status, execution.lease_owner = ExecutionStatus.RUNNING, owner
    execution.lease_expires_at = expires
    execution.attempts += 1
    execution.started_at = execution.started_at or now
    return "acquired", execution


_FINISH_FIELDS = (
    "status",
    "outputs",
    "stats",
    "error_message",
    "has_errors",  # SPEC §17 hook (apps.executions.outcome)
    "ended_at",
    "lease_owner",
    "lease_expires_at",
)
_FINISH = (
    f"UPDATE {_EXECUTIONS} SET {', '.join(f'{name} = %s' for name in _FINISH_FIELDS)}"
    " WHERE id = %s AND lease_owner = %s AND status IN ({sources})"
)


def _finish_update(pk: uuid.UUID, owner: str, target: str, values: dict[str, Any]) -> bool:
    """The guarded UPDATE to a final status, only by the lease holder (plain SQL, as _acquire),
    inside the caller's transaction."""
    meta = GraphExecution._meta
    params = [
        meta.get_field(name).get_db_prep_save(values[name], connection) for name in _FINISH_FIELDS
    ]
    sources = ALLOWED_SOURCES[target]
    sql = _FINISH.format(sources=", ".join(["%s"] * len(sources)))
    with connection.cursor() as cursor:
        relax_durability(cursor)
        cursor.execute(sql, [*params, meta.pk.get_db_prep_value(pk, connection), owner, *sources])
        return cursor.rowcount == 1


def _finish(
    execution: GraphExecution, result: RunResult, owner: str, *, compiled: runtime.CompiledGraph
) -> None:
    assert result.status is not None
    cost = credit_usage_for_run(graph_exec_id=execution.pk) if compiled.has_prices else 0
    if compiled.has_sub_agents:
        children = GraphExecution.objects.filter(parent=execution).values_list("stats", flat=True)
        cost += sum(child.get("cost", 0) for child in children)
    now = timezone.now()
    waits = result.status == ExecutionStatus.REVIEW  # for a person: not an end
    values = {
        "status": result.status.value,
        "outputs": runtime.jsonable(result.outputs),
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
    values.update(outcome.finish_fields(execution.pk, result))  # SPEC §17 hook
    with transaction.atomic(savepoint=False):
        moved = _finish_update(execution.pk, owner, result.status.value, values)
        if moved:
            for name, value in values.items():
                setattr(execution, name, value)
            if waits:
                # A decision that came while the run still ran resumes it at once.
                reviews.run_resume_if_decided(execution, now=now)
            else:
                _announce_finished(execution)
    if moved and waits:
        events.publish(runtime.graph_execution_event(execution))
        return
    if moved:
        events.publish(runtime.graph_execution_event(execution))
        if cost > 0:
            # Off the run's path: a card payment must not hold up the final event.
            current_app.send_task(
                "credits.auto_top_up", args=[str(execution.user_id), str(execution.pk)]
            )
        metrics.record_run(status=result.status.value, seconds=result.wall_time)


def _named_sub_agent(
    parent: GraphExecution, graph_id: str, graph_version: int | None
) -> tuple[uuid.UUID, int] | None:
    """The sub-agent a graph of someone else's (a library agent, a template) names itself, as its
    creator would run it: (graph id, version). Its runner may start it though it is not theirs,
    as they may run the graph that names it. None when the parent graph is the runner's own or
    does not name this sub-agent with a fixed graph id; the runner's own access applies then (a
    graph id that reaches the node through a link, from the run's inputs say, opens nothing)."""
    compiled = runtime.compiled_graph(parent.graph_id, parent.graph_version)
    key = runtime.sub_agent_key(graph_id, graph_version)
    if compiled.owner_id == parent.user_id or key not in compiled.named_sub_agents:
        return None
    creator = User(pk=compiled.owner_id)
    try:
        return graph_selectors.graph_version_resolve(
            user=creator, graph_id=graph_id, version=graph_version
        )
    except NotFound:
        return None


class _SubAgents:
    """The Agent Executor's port: runs a child graph inline, in the block's own thread, so a
    nested run never waits for a free worker (which could deadlock a small pool)."""

    def __init__(self, *, parent: GraphExecution, user: User, owner: str, cancel: CancelToken):
        self.parent, self.user, self.owner, self.cancel = parent, user, owner, cancel

    def run(self, *, graph_id: str, graph_version: int | None, inputs: dict[str, Any]):
        named = _named_sub_agent(self.parent, graph_id, graph_version)
        if named is not None:
            graph_id, graph_version = named
        child = graph_execution_start(
            user=self.user,
            graph_id=graph_id,
            graph_version=graph_version,
            inputs=inputs,
            parent=self.parent,
            enqueue=False,
            access_checked=named is not None,
        )
        graph_execution_run(
            graph_exec_id=child.id, owner=f"{self.owner}/child", parent_cancel=self.cancel
        )
        child.refresh_from_db()
        if child.status == ExecutionStatus.REVIEW:
            # Its parent's node cannot wait with it: a decision would resume it on its own.
            child = graph_execution_stop(user=self.user, graph_exec_id=child.id)
            return "failed: a sub-agent cannot wait for a human review", child.outputs
        return child.status, child.outputs


def graph_execution_run(
    *, graph_exec_id: uuid.UUID | str, owner: str, parent_cancel: CancelToken | None = None
) -> RunResult | None:
    """Run (or resume) one execution under a lease; the body of the Celery task.

    Idempotent: a redelivered message for a finished or leased run does nothing; a run whose
    user already has the maximum of this graph's runs going is enqueued again for later.
    """
    graph_exec_id = uuid.UUID(str(graph_exec_id))
    # A sub-agent run goes inline in its parent's node: it is not held back by the cap.
    outcome, execution = _acquire(graph_exec_id, owner, enforce_cap=parent_cancel is None)
    if outcome == "capped":
        enqueue_run(graph_exec_id, countdown=settings.EXECUTION_CAP_RETRY_SECONDS)
        return None
    if outcome == "leased" and parent_cancel is None:
        # A redelivered message (its worker process died) for a run whose dead owner's lease
        # has not expired yet: look again once it has, instead of waiting for the watchdog. A
        # duplicate for a run that is alive elsewhere just comes back each lease period until
        # the run ends.
        enqueue_run(graph_exec_id, countdown=settings.EXECUTION_LEASE_SECONDS)
        return None
    if execution is None:
        return None
    user_context_set(execution.user_id)
    if execution.attempts > settings.EXECUTION_MAX_ATTEMPTS:
        _give_up(execution, "The run was interrupted too many times (its worker was lost).")
        return None
    events.publish(runtime.graph_execution_event(execution))
    compiled = runtime.compiled_graph(execution.graph_id, execution.graph_version)
    lease = runtime.Lease(execution.id, owner)
    draining = drain.drain_poller()
    started_at = execution.started_at
    credentials = runtime.RunCredentials(
        user_id=execution.user_id,
        selection=execution.credentials_inputs,
        node_choices={
            key: str(node.metadata[CREDENTIALS_METADATA_KEY])
            for key, node in compiled.nodes.items()
            if node.metadata.get(CREDENTIALS_METADATA_KEY)
        },
    )
    ports = Ports(
        store=runtime.database_store(execution, compiled, relaxed=True),
        charge=runtime.charge_factory(
            execution=execution, graph_name=compiled.name, credentials=credentials
        ),
        settle=runtime.settle_factory(execution=execution, graph_name=compiled.name),
        # Node execution ids fixed by (run, node, occurrence): the USAGE keys `node:<id>` then
        # hold across a resume even for an execution whose row was never committed.
        record_id=lambda node_id, occurrence: str(
            uuid.uuid5(execution.id, f"{node_id}:{occurrence}")
        ),
        block_run=runtime.block_run_factory(
            user=execution.user,
            execution=execution,
            credentials=credentials,
            agent_runner=lambda token: _SubAgents(
                parent=execution, user=execution.user, owner=owner, cancel=token
            ),
        ),
        is_cancelled=runtime.cancel_poller(execution.id, parent_cancel),
        is_abandoned=lambda: lease.is_lost() or draining(),
    )
    # Time spent waiting for reviews does not count towards the run's time limit.
    waited = float(execution.stats.get("review_wait_seconds", 0))
    engine_settings = EngineSettings(
        max_parallel=settings.EXECUTION_MAX_PARALLEL_NODES,
        run_deadline=started_at.timestamp() + compiled.time_limit_seconds + waited,
    )
    metrics.ACTIVE_EXECUTIONS.inc()
    try:
        result = run_graph(compiled.graph, ports, engine_settings)
    except _UNAVAILABLE:
        raise  # the run resumes from its last step once its lease expires (the watchdog)
    except Exception:
        if not GraphExecution.objects.filter(pk=execution.pk).exists():
            logger.info("run %s was deleted (with its graph) while it ran", execution.pk)
            return None
        # Anything else would happen again on every attempt: fail the run now, not after
        # EXECUTION_MAX_ATTEMPTS lease periods.
        logger.exception("run %s stopped on an internal error", execution.pk)
        _give_up(execution, "The run stopped on an internal error (the platform's logs say more).")
        return None
    finally:
        metrics.ACTIVE_EXECUTIONS.dec()
    if result.status is not None:
        _finish(execution, result, owner, compiled=compiled)
    elif not lease.lost:
        _hand_over(execution, owner, resume=parent_cancel is None)
    return result


def _hand_over(execution: GraphExecution, owner: str, *, resume: bool) -> None:
    """The worker is shutting down and its grace period is over: give the lease back and
    enqueue the run for another worker. The hand-over is not a lost worker, so it does not count
    towards EXECUTION_MAX_ATTEMPTS. A sub-agent run is failed instead: its parent, handed over
    too, runs its Agent Executor node again."""
    if not resume:
        _give_up(execution, "Its parent run was handed over to another worker; it starts again.")
        return
    released = GraphExecution.objects.filter(
        pk=execution.pk, lease_owner=owner, status=ExecutionStatus.RUNNING
    ).update(lease_owner="", lease_expires_at=timezone.now(), attempts=F("attempts") - 1)
    if released:
        enqueue_run(execution.pk)


def _give_up(execution: GraphExecution, message: str) -> None:
    with transaction.atomic():
        moved = _transition(
            execution.pk, ExecutionStatus.FAILED, error_message=message, lease_owner=""
        )
        if moved:
            execution.refresh_from_db()
            execution.node_executions.filter(
                status__in=[
                    ExecutionStatus.QUEUED,
                    ExecutionStatus.INCOMPLETE,
                    ExecutionStatus.RUNNING,
                ]
            ).update(status=ExecutionStatus.CANCELLED, ended_at=timezone.now())
            _announce_finished(execution)
    if moved:
        events.publish(runtime.graph_execution_event(execution))
        metrics.record_run(status=ExecutionStatus.FAILED, seconds=0.0)


def execution_watchdog() -> dict[str, int]:
    """Housekeeping beat task (SPEC §6): no run stays stuck and no final event is lost.

    - `queued` runs enqueued long ago are enqueued again (their message may be lost; a duplicate
      is harmless thanks to the lease);
    - `running` runs whose lease expired (their worker died) are enqueued to resume, or failed
      after EXECUTION_MAX_ATTEMPTS;
    - the final event of runs that ended within the last interval is published again.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WATCHDOG_QUEUED_SECONDS)
    queued = list(
        GraphExecution.objects.filter(status=ExecutionStatus.QUEUED, parent__isnull=True)
        .filter(Q(enqueued_at__lt=stale) | Q(enqueued_at__isnull=True, created_at__lt=stale))
        .values_list("pk", flat=True)
    )
    for graph_exec_id in queued:
        enqueue_run(graph_exec_id)
    expired = GraphExecution.objects.filter(
        status=ExecutionStatus.RUNNING, lease_expires_at__lt=now
    )
    resumed = failed = 0
    for execution in expired:
        if execution.parent_id is not None:
            # Its parent's Agent Executor node runs again on resume and starts a new child.
            _give_up(execution, "Its parent run was interrupted; the parent starts it again.")
            failed += 1
        elif execution.attempts >= settings.EXECUTION_MAX_ATTEMPTS:
            _give_up(execution, "The run was interrupted too many times (its worker was lost).")
            failed += 1
        else:
            enqueue_run(execution.pk)
            resumed += 1
    recent = GraphExecution.objects.filter(
        ended_at__gte=now - timedelta(seconds=2 * settings.WATCHDOG_INTERVAL_SECONDS)
    )
    republished = 0
    for execution in recent:
        events.publish(runtime.graph_execution_event(execution))
        republished += 1
    return {
        "requeued": len(queued),
        "resumed": resumed,
        "failed": failed,
        "republished": republished,
    }
