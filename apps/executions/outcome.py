"""The honest outcome of a finished run (SPEC §17).

A failed node does not fail its run (SPEC §6): the run ends `completed` with
`stats.node_error_count` > 0. Such a run is "completed with errors" everywhere: it is stored with
`has_errors` set (the runs lists filter on it) and, unless the engine gave the run an error of its
own, with the first failed node's error as its `error_message`, so no page says "Error: none".
"""

import uuid
from typing import Any

from apps.common.json_limits import storable
from apps.executions.engine.types import RunResult
from apps.executions.models import ExecutionStatus, NodeExecution

# A node's error can be long (a provider's whole answer): the run's summary keeps its start.
ERROR_MESSAGE_MAX_CHARS = 2000


def first_node_error(graph_exec_id: uuid.UUID) -> str:
    """The error of the run's first failed node execution (by end time, then sequence), or ""."""
    error = (
        NodeExecution.objects.filter(
            graph_execution_id=graph_exec_id, status=ExecutionStatus.FAILED
        )
        .order_by("ended_at", "sequence")
        .values_list("error", flat=True)
        .first()
    )
    return (error or "").strip()


def nodes_failed_phrase(node_error_count: int) -> str:
    """ "1 node failed" / "3 nodes failed": the amber badge's and the notifications' words."""
    return "1 node failed" if node_error_count == 1 else f"{node_error_count} nodes failed"


def finish_fields(graph_exec_id: uuid.UUID, result: RunResult) -> dict[str, Any]:
    """The outcome fields the finishing UPDATE writes with the final status: `has_errors` and,
    when nodes failed and the engine gave no run-level error, `error_message` from the first
    failed node. One query, only for a run with failed nodes; none on a clean run's path."""
    if result.node_error_count <= 0 or result.status == ExecutionStatus.REVIEW:
        return {"has_errors": False}
    fields: dict[str, Any] = {"has_errors": True}
    if not result.error_message:
        first = first_node_error(graph_exec_id) or "A node failed without a message."
        fields["error_message"] = storable(first[:ERROR_MESSAGE_MAX_CHARS])
    return fields
