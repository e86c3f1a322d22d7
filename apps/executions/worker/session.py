"""One run on one worker: `RunSession` holds the run's state and its ports and walks it
straight through: lease → ports → engine → store and events (inside the engine's steps) →
finish, hand over or give up. A sub-agent is a child session run inline in its parent's block
thread (`SubAgents`)."""

import logging
import uuid
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from apps.common.exceptions import NotFound
from apps.common.logging import user_context_set
from apps.executions import drain, metrics
from apps.executions.engine import EngineSettings, Ports, run_graph
from apps.executions.engine.types import RunResult
from apps.executions.events import final_event_sent_key, graph_execution_event_record
from apps.executions.lifecycle import announce_finished, enqueue_run
from apps.executions.models import ExecutionStatus, GraphExecution
from apps.executions.reviews import run_resume_if_decided
from apps.executions.runtime import database_store, engine_graph
from apps.executions.services import graph_execution_start, graph_execution_stop
from apps.executions.worker import ending
from apps.executions.worker.lease import Lease, lease_acquire
from apps.executions.worker.ports import (
    BlockRuns,
    CancelPoller,
    Charges,
    RunCredentials,
    is_platform_fault,
)
from apps.graphs.runnable import (
    CancelToken,
    compiled_version,
    graph_version_resolve,
    sub_agent_key,
)
from apps.realtime.events import Event, publish
from apps.users.models import User

logger = logging.getLogger(__name__)
# Errors of a service that is down for a while: a run they stop is resumed, not failed.
_UNAVAILABLE = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
INTERRUPTED = "The run was interrupted too many times (its worker was lost)."


def graph_execution_run(
    *, graph_exec_id: uuid.UUID | str, owner: str, parent_cancel: CancelToken | None = None
) -> RunResult | None:
    """Run (or resume) one execution under a lease; the body of the Celery task.

    Idempotent: a redelivered message for a finished or leased run does nothing; a run whose
    user already has the maximum of this graph's runs going is enqueued again for later.
    """
    graph_exec_id = uuid.UUID(str(graph_exec_id))
    # The lease and the run's `running` event (with its `seq`) commit together, as one relaxed
    # step of the worker's (sql.execute_relaxed): a transaction less per run.
    with transaction.atomic(savepoint=False):
        # A sub-agent run goes inline in its parent's node: it is not held back by the cap.
        outcome, execution = lease_acquire(graph_exec_id, owner, enforce_cap=parent_cancel is None)
        runs = execution is not None and execution.attempts <= settings.EXECUTION_MAX_ATTEMPTS
        running = graph_execution_event_record(execution) if execution and runs else []
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
    return RunSession(execution, owner, parent_cancel).run(running)


class RunSession:
    """A run this worker holds the lease of, from the engine's start to its end."""

    def __init__(
        self, execution: GraphExecution, owner: str, parent_cancel: CancelToken | None
    ) -> None:
        self.execution, self.owner, self.parent_cancel = execution, owner, parent_cancel
        self.compiled = compiled_version(execution.graph_id, execution.graph_version)
        self.lease = Lease(execution.id, owner)
        self.draining = drain.drain_poller()
        self.credentials = RunCredentials(
            user_id=execution.user_id,
            selection=execution.credentials_inputs,
            node_choices=self.compiled.credential_choices,
        )
        self.charges = Charges(
            execution=execution, graph_name=self.compiled.name, credentials=self.credentials
        )

    def run(self, running: list[Event]) -> RunResult | None:
        """`running`: the run's `running` event, stored with the lease (none when the run was
        interrupted too often: it is given up instead)."""
        user_context_set(self.execution.user_id)
        if self.execution.attempts > settings.EXECUTION_MAX_ATTEMPTS:
            self.give_up(INTERRUPTED)
            return None
        publish(running)
        result = self.run_engine()
        if result is None:
            return None
        if result.status is not None:
            self.finish(result)
        elif not self.lease.lost:
            self.hand_over()
        return result

    def ports(self) -> Ports:
        return Ports(
            store=database_store(self.execution, self.compiled, relaxed=True),
            charge=self.charges.charge,
            settle=self.charges.settle,
            record_id=self.record_id,
            block_run=BlockRuns(
                user=self.execution.user,
                execution=self.execution,
                charges=self.charges,
                agents=self.sub_agents,
            ),
            is_cancelled=CancelPoller(self.execution.id, self.parent_cancel),
            is_abandoned=self.is_abandoned,
            is_platform_fault=is_platform_fault,
        )

    def engine_settings(self) -> EngineSettings:
        # Time spent waiting for reviews does not count towards the run's time limit.
        waited = float(self.execution.stats.get("review_wait_seconds", 0))
        assert self.execution.started_at is not None  # set when the lease was taken
        started = self.execution.started_at.timestamp()
        return EngineSettings(
            max_parallel=settings.EXECUTION_MAX_PARALLEL_NODES,
            run_deadline=started + self.compiled.time_limit_seconds + waited,
            retry_base_seconds=settings.NODE_RETRY_BASE_MS / 1000,
            retry_max_seconds=settings.NODE_RETRY_MAX_SECONDS,
            retry_after_limit_seconds=settings.NODE_RETRY_AFTER_LIMIT_SECONDS,
        )

    def run_engine(self) -> RunResult | None:
        """The engine's run; None when the run ended otherwise (deleted, or failed here on an
        internal error, which would happen again on every attempt)."""
        metrics.ACTIVE_EXECUTIONS.inc()
        try:
            return run_graph(engine_graph(self.compiled), self.ports(), self.engine_settings())
        except _UNAVAILABLE:
            raise  # the run resumes from its last step once its lease expires (the watchdog)
        except Exception:
            if not GraphExecution.objects.filter(pk=self.execution.pk).exists():
                logger.info("run %s was deleted (with its graph) while it ran", self.execution.pk)
                return None
            logger.exception("run %s stopped on an internal error", self.execution.pk)
            self.give_up("The run stopped on an internal error (the platform's logs say more).")
            return None
        finally:
            metrics.ACTIVE_EXECUTIONS.dec()

    def record_id(self, node_id: str, occurrence: int) -> str:
        """Node execution ids fixed by (run, node, occurrence): the USAGE keys `node:<id>` then
        hold across a resume even for an execution whose row was never committed."""
        return str(uuid.uuid5(self.execution.id, f"{node_id}:{occurrence}"))

    def is_abandoned(self) -> bool:
        return self.lease.is_lost() or self.draining()

    def sub_agents(self, cancel: CancelToken) -> "SubAgents":
        return SubAgents(parent=self.execution, owner=self.owner, cancel=cancel)

    def finish(self, result: RunResult) -> None:
        """The guarded UPDATE to the result and, in its transaction, what it tells the layers
        above (`announce_finished`) or, for a run now waiting for a review, the resume of
        reviews decided meanwhile; then the final event, the auto top-up and metrics."""
        assert result.status is not None
        execution, now = self.execution, timezone.now()
        cost = ending.run_cost(execution, self.compiled)
        values = ending.result_values(execution, result, cost=cost, now=now)
        waits = result.status.value == ExecutionStatus.REVIEW  # for a person: not an end
        with transaction.atomic(savepoint=False):
            moved = ending.result_write(execution.pk, self.owner, values)
            if not moved:
                return
            for name, value in values.items():
                setattr(execution, name, value)
            if waits:  # a decision that came while the run still ran resumes it at once
                run_resume_if_decided(execution, now=now)
            final = graph_execution_event_record(execution)
            # Registered before what the layers above send after the commit (the run's
            # notification): the final event, which a client waits for, leaves first.
            transaction.on_commit(
                partial(
                    publish,
                    final,
                    sent_key=final_event_sent_key(execution.pk),
                    # Beyond the watchdog's look back over the runs ended in its last two
                    # intervals.
                    sent_key_seconds=3 * settings.WATCHDOG_INTERVAL_SECONDS,
                )
            )
            if not waits:
                announce_finished(execution)
        if waits:
            return
        if cost > 0:
            # Off the run's path: a card payment must not hold up the final event.
            current_app.send_task(
                "credits.auto_top_up", args=[str(execution.user_id), str(execution.pk)]
            )
        metrics.record_run(status=result.status.value, seconds=result.wall_time)

    def hand_over(self) -> None:
        """The worker is shutting down and its grace period is over: give the lease back and
        enqueue the run for another worker. A sub-agent run is failed instead: its parent,
        handed over too, runs its Agent Executor node again."""
        if self.parent_cancel is not None:
            self.give_up("Its parent run was handed over to another worker; it starts again.")
        elif ending.lease_release(self.execution, self.owner):
            enqueue_run(self.execution.pk)

    def give_up(self, message: str) -> None:
        ending.give_up(self.execution, message)


def named_sub_agent(
    parent: GraphExecution, graph_id: str, graph_version: int | None
) -> tuple[uuid.UUID, int] | None:
    """The sub-agent a graph of someone else's (a library agent, a template) names itself, as its
    creator would run it: (graph id, version). Its runner may start it though it is not theirs,
    as they may run the graph that names it. None when the parent graph is the runner's own or
    does not name this sub-agent with a fixed graph id; the runner's own access applies then (a
    graph id that reaches the node through a link, from the run's inputs say, opens nothing)."""
    compiled = compiled_version(parent.graph_id, parent.graph_version)
    key = sub_agent_key(graph_id, graph_version)
    if compiled.owner_id == parent.user_id or key not in compiled.named_sub_agents:
        return None
    creator = User(pk=compiled.owner_id)
    try:
        return graph_version_resolve(user=creator, graph_id=graph_id, version=graph_version)
    except NotFound:
        return None


class SubAgents:
    """The Agent Executor's port: runs a child graph inline, in the block's own thread, so a
    nested run never waits for a free worker (which could deadlock a small pool)."""

    def __init__(self, *, parent: GraphExecution, owner: str, cancel: CancelToken) -> None:
        self.parent, self.user, self.owner, self.cancel = parent, parent.user, owner, cancel

    def run(
        self, *, graph_id: str, graph_version: int | None, inputs: dict[str, Any]
    ) -> tuple[str, Any]:
        named = named_sub_agent(self.parent, graph_id, graph_version)
        child = graph_execution_start(
            user=self.user,
            graph_id=named[0] if named else graph_id,
            graph_version=named[1] if named else graph_version,
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
        return str(child.status), child.outputs
