"""Retry from failure (SPEC §17): a new run of a finished one's version and inputs that takes
every completed node execution as it was and runs only what failed, was cancelled or never ran
(engine.retry decides which). The new run names the old one (`retry_of`)."""

import time
import uuid
from typing import Any

from django.utils import timezone

from apps.common.exceptions import Conflict, ValidationFailed
from apps.executions import runtime, selectors, services
from apps.executions.engine.retry import retry_node_executions
from apps.executions.models import ExecutionStatus, GraphExecution
from apps.graphs.runnable import graph_version_granted, runnable_version
from apps.users.models import User

KEEP = object()  # max_credits not given: the retried run's


def graph_execution_retry(
    *, user: User, graph_exec_id: uuid.UUID | str, max_credits: Any = KEEP
) -> GraphExecution:
    """Start the retry of the user's finished run `graph_exec_id`; 409 while it is not finished
    or when nothing of it failed. Its budget is the old run's unless `max_credits` is given."""
    original = selectors.graph_execution_get(user=user, graph_exec_id=graph_exec_id)
    _check_retriable(original)
    # Who ran the version may retry it while they may still read it (their own graph, a
    # template, an agent in their library).
    graph_version_granted(user=user, graph_id=original.graph_id, version=original.graph_version)
    runnable = runnable_version(
        user=user,
        graph_id=original.graph_id,
        version=original.graph_version,
        inputs=original.inputs,
        credentials_inputs=original.credentials_inputs,
        access_checked=True,
    )
    services.balance_check(user, runnable)
    finished = runtime.database_store(original, runnable).load()
    records = retry_node_executions(
        runtime.engine_graph(runnable), finished, now=time.time(), new_id=services.new_record_id
    )
    execution = GraphExecution(
        graph_id=original.graph_id,
        graph_version=original.graph_version,
        user=user,
        status=ExecutionStatus.QUEUED,
        inputs=original.inputs,
        credentials_inputs=original.credentials_inputs,
        preset_id=original.preset_id,
        retry_of=original,
        enqueued_at=timezone.now(),
        max_credits=original.max_credits if max_credits is KEEP else max_credits,
    )
    services.run_insert(execution, runnable, records)
    return execution


def _check_retriable(execution: GraphExecution) -> None:
    if execution.can_retry:
        return
    if execution.parent_id is not None:
        raise ValidationFailed(
            "This is a sub-agent's run: retry the run it belongs to.",
            details={"parent_id": str(execution.parent_id)},
        )
    if not execution.is_terminal:
        raise Conflict(
            f"The run is {execution.status}: stop it or let it end before retrying it.",
            details={"status": execution.status},
        )
    raise Conflict(
        "Every node of this run completed: there is nothing to retry. Start a new run.",
        details={"status": execution.status},
    )
