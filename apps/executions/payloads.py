"""The one definition of what a run and a node execution look like outside the database: the REST
bodies (the DRF serializers return these), the `/ws` events (executions.events) and what the
store publishes after each engine step. Plain dictionaries, built without DRF's field machinery:
they are sent at every step of every run."""

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from apps.common.dates import datetime_text
from apps.common.json_limits import storable
from apps.common.numbers import in_int64
from apps.executions.models import GraphExecution, NodeExecution

_LONG_NUMBER = re.compile(r"[0-9]{19}")


def _bounded(value: Any) -> Any:
    """Integers beyond 64 bits (which msgpack cannot publish) as their decimal text."""
    if isinstance(value, int) and not isinstance(value, bool) and not in_int64(value):
        return str(value)
    if isinstance(value, list):
        return [_bounded(item) for item in value]
    if isinstance(value, dict):
        return {key: _bounded(item) for key, item in value.items()}
    return value


def jsonable(value: Any) -> Any:
    """What a JSON column and a channel message can carry: anything else becomes its text (an
    integer beyond 64 bits too), and text the database cannot hold (NUL, surrogate halves) has
    U+FFFD in their place."""
    text = json.dumps(value, cls=DjangoJSONEncoder, default=str)
    data = json.loads(text)
    if _LONG_NUMBER.search(text):  # 19 digits may already be past 2**63; rare, so walk only then
        data = _bounded(data)
    # json.dumps writes NUL as \u0000 and surrogates (of characters past U+FFFF too) as \udxxx.
    return storable(data) if "\\u0000" in text or "\\ud" in text else data


def _as_is(value: Any) -> Any:
    return value


def grouped_outputs(pairs: Iterable[tuple[str, Any]]) -> dict[str, list[Any]]:
    """(pin, value) pairs in yield order → {pin: [values in order]}."""
    grouped: dict[str, list[Any]] = {}
    for pin, value in pairs:
        grouped.setdefault(pin, []).append(value)
    return grouped


def graph_execution_payload(
    execution: GraphExecution, *, clean: Callable[[Any], Any] = jsonable
) -> dict[str, Any]:
    """A run's meta: `GraphExecutionSerializer`'s body and `graph_execution_event`'s data.
    `clean` readies the JSON columns for a channel message (REST bodies keep them as stored)."""
    return {
        "id": str(execution.id),
        "graph_id": str(execution.graph_id),
        "graph_version": execution.graph_version,
        "user_id": str(execution.user_id),
        "status": str(execution.status),
        "inputs": clean(execution.inputs),
        "credentials_inputs": clean(execution.credentials_inputs),
        "outputs": clean(execution.outputs),
        "stats": clean(execution.stats),
        "error_message": execution.error_message,
        "has_errors": execution.has_errors,
        "max_credits": execution.max_credits,
        "preset_id": str(execution.preset_id) if execution.preset_id else None,
        "parent_id": str(execution.parent_id) if execution.parent_id else None,
        "retry_of": str(execution.retry_of_id) if execution.retry_of_id else None,
        "created_at": datetime_text(execution.created_at),
        "started_at": datetime_text(execution.started_at),
        "ended_at": datetime_text(execution.ended_at),
    }


def graph_execution_rest(execution: GraphExecution) -> dict[str, Any]:
    """The REST body of a run (JSON columns as stored)."""
    return graph_execution_payload(execution, clean=_as_is)


def node_execution_payload(
    *,
    id: Any,
    graph_exec_id: Any,
    node_id: str,
    block_id: str,
    sequence: int,
    status: str,
    input_data: Any,
    output_data: dict[str, list[Any]],
    error: str,
    stats: Any,
    queued_at: datetime | None,
    started_at: datetime | None,
    ended_at: datetime | None,
) -> dict[str, Any]:
    """One node execution: `NodeExecutionSerializer`'s body and `node_execution_event`'s data.
    `output_data` is grouped by pin in yield order (`grouped_outputs`); the keyword names are
    those of `selectors.node_execution_rows`' rows."""
    return {
        "id": str(id),
        "graph_exec_id": str(graph_exec_id),
        "node_id": node_id,
        "block_id": block_id,
        "sequence": sequence,
        "status": str(status),
        "input_data": input_data,
        "output_data": output_data,
        "error": error,
        "stats": stats,
        "queued_at": datetime_text(queued_at),
        "started_at": datetime_text(started_at),
        "ended_at": datetime_text(ended_at),
    }


def node_execution_rest(row: NodeExecution) -> dict[str, Any]:
    """The REST body of a node execution row (its node and outputs loaded with it)."""
    return node_execution_payload(
        id=row.id,
        graph_exec_id=row.graph_execution_id,
        node_id=row.node.key,
        block_id=row.node.block_id,
        sequence=row.sequence,
        status=row.status,
        input_data=row.input_data,
        output_data=grouped_outputs((output.pin, output.value) for output in row.outputs.all()),
        error=row.error,
        stats=row.stats,
        queued_at=row.queued_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )
