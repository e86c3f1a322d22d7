"""The engine's store port on the database: one transaction per engine step, events after its
commit.

This is the hot path of every run (a step per node), so it writes with plain parameterised SQL
instead of the ORM's bulk helpers, whose expression building cost more than the queries
themselves. Values are prepared by the model fields, so the SQL stays portable between
PostgreSQL and SQLite. Event payloads come from apps.executions.payloads, as REST bodies do.
"""

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Field, Model

from apps.common.json_limits import storable
from apps.executions import metrics
from apps.executions.engine import NodeExecutionRecord
from apps.executions.engine.types import Status
from apps.executions.events import node_execution_events_record
from apps.executions.models import GraphExecution, NodeExecution, NodeExecutionOutput
from apps.executions.payloads import grouped_outputs, jsonable, node_execution_payload
from apps.executions.sql import Batch
from apps.graphs.runnable import Node, get_block
from apps.realtime.events import publish

_FINISHED = {Status.COMPLETED, Status.FAILED, Status.CANCELLED}


def to_datetime(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


def _uuid_text(value: Any) -> str:
    """A UUID column's value as API text (SQLite hands back 32 hex digits)."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


def _from_json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _epoch(value: datetime | str | None) -> float | None:
    """A timestamp column's value as epoch seconds; naive values are UTC (SQLite's)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _prep(model: type[Model], name: str) -> Callable[[Any], Any]:
    field = cast("Field[Any, Any]", model._meta.get_field(name))  # a concrete column
    return lambda value: field.get_db_prep_save(value, connection)


def _without_secrets(node: Node, input_data: dict[str, Any]) -> dict[str, Any]:
    """A node's inputs as recorded (SPEC §12: secrets never in execution records): a `secret`
    pin set in the node's defaults is left out; a resumed run takes it from the defaults again."""
    block = get_block(node.block_id)
    secret = block.secret_inputs() if block else ()
    if not secret:
        return input_data
    return {
        pin: value
        for pin, value in input_data.items()
        if not (pin in secret and pin in node.input_default)
    }


class DatabaseStore:
    """Records ↔ NodeExecution rows of one graph execution."""

    def __init__(
        self, execution: GraphExecution, nodes: Mapping[str, Node], *, relaxed: bool = False
    ) -> None:
        self.execution = execution
        self.relaxed = relaxed  # a worker's steps: see sql.execute_relaxed
        self.nodes = nodes
        self.exec_id_db = _prep(NodeExecution, "graph_execution")(execution.id)
        self._id = _prep(NodeExecution, "id")
        self._json = _prep(NodeExecution, "input_data")
        self._output_json = _prep(NodeExecutionOutput, "value")
        self._when = _prep(NodeExecution, "queued_at")

    def load(self) -> list[NodeExecutionRecord]:
        # Plain queries: no model instances or query building on the way (this runs at every
        # run start). JSON columns arrive as text on both databases. Only finished node
        # executions have outputs, so a run that starts afresh needs no second query.
        key_of = {node.pk: key for key, node in self.nodes.items()}
        outputs: dict[str, list[tuple[str, Any]]] = {}
        with connection.cursor() as cursor:
            cursor.execute(_LOAD, [self.exec_id_db])
            rows = cursor.fetchall()
            if any(Status(row[3]) in _FINISHED for row in rows):
                cursor.execute(_LOAD_OUTPUTS, [self.exec_id_db])
                for node_execution_id, pin, value in cursor.fetchall():
                    outputs.setdefault(_uuid_text(node_execution_id), []).append(
                        (pin, _from_json(value))
                    )
        records = []
        for row_id, node_pk, sequence, status, input_data, error, stats, *moments in rows:
            record_id = _uuid_text(row_id)
            queued_at, started_at, ended_at = (_epoch(moment) for moment in moments)
            records.append(
                NodeExecutionRecord(
                    id=record_id,
                    node_id=key_of[node_pk],
                    sequence=sequence,
                    status=Status(status),
                    input_data=_from_json(input_data),
                    outputs=outputs.get(record_id, []),
                    error=error or None,
                    stats=_from_json(stats),
                    queued_at=queued_at,
                    started_at=started_at,
                    ended_at=ended_at,
                )
            )
        return records

    def commit(
        self,
        changes: Sequence[NodeExecutionRecord],
        *,
        first_seq: int | None = None,
        batch: Batch | None = None,
    ) -> None:
        """The engine's port (types.Store.commit); `first_seq` and `batch` (the caller's, which
        the caller sends) are for the run's creation only (events.events_record)."""
        payloads = [self._payload(record) for record in changes]
        inserts, updates, outputs = self._rows(changes, payloads)
        # savepoint=False: inside the run-start transaction a savepoint would only add round trips.
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            # On PostgreSQL all of it goes in one round trip, the events' statement last.
            own = batch is None
            batch = batch or Batch(cursor)
            batch.add_rows(_INSERT, inserts, per_statement=_ROWS_PER_INSERT)
            batch.add_many(_UPDATE, updates)
            batch.add_rows(_INSERT_OUTPUT, outputs, per_statement=_ROWS_PER_INSERT)
            # Stored with their `seq`s in the same transaction (SPEC §17).
            changed = [p["event"] for p in payloads]
            events = node_execution_events_record(
                self.execution.id, changed, first_seq=first_seq, relaxed=self.relaxed, batch=batch
            )
            if own:
                batch.send()
        # After the commit that makes them true: at once for a worker's step; at the end of the
        # caller's transaction for the entry nodes of a run being created.
        transaction.on_commit(partial(publish, events))
        self._count_finished(changes)

    def _rows(
        self, changes: Sequence[NodeExecutionRecord], payloads: list[dict[str, Any]]
    ) -> tuple[list[Any], list[Any], list[Any]]:
        """The parameters of the step's statements: new node executions, changed ones, and
        the outputs of those that finished."""
        inserts: list[Any] = []
        updates: list[Any] = []
        outputs: list[Any] = []
        for record, payload in zip(changes, payloads, strict=True):
            times = [
                self._when(to_datetime(moment))
                for moment in (record.queued_at, record.started_at, record.ended_at)
            ]
            values = [
                record.status.value,
                self._json(payload["input_data"]),
                payload["event"]["error"],
                self._json(payload["stats"]),
                *times,
            ]
            record_id = self._id(record.id)
            if record.is_new:
                node = self.nodes[record.node_id]
                inserts.append([record_id, self.exec_id_db, node.pk, record.sequence, *values])
            else:
                updates.append([*values, record_id])
            if record.status in _FINISHED:
                outputs.extend(
                    [record_id, position, pin, self._output_json(value)]
                    for position, (pin, value) in enumerate(payload["outputs"])
                )
        return inserts, updates, outputs

    def _count_finished(self, changes: Sequence[NodeExecutionRecord]) -> None:
        for record in changes:
            if record.status in _FINISHED:
                block = get_block(self.nodes[record.node_id].block_id)
                metrics.record_node(
                    block=block.name if block else self.nodes[record.node_id].block_id,
                    status=record.status.value,
                    seconds=record.stats.get("wall_time", 0.0),
                )

    def _payload(self, record: NodeExecutionRecord) -> dict[str, Any]:
        node = self.nodes[record.node_id]
        input_data = jsonable(_without_secrets(node, record.input_data))
        stats = jsonable(record.stats)
        outputs = [(pin, jsonable(value)) for pin, value in record.outputs]
        event = node_execution_payload(
            id=record.id,
            graph_exec_id=self.execution.id,
            node_id=node.key,
            block_id=node.block_id,
            sequence=record.sequence,
            status=record.status.value,
            input_data=input_data,
            output_data=grouped_outputs(outputs),
            error=storable(record.error or ""),
            stats=stats,
            queued_at=to_datetime(record.queued_at),
            started_at=to_datetime(record.started_at),
            ended_at=to_datetime(record.ended_at),
        )
        return {"input_data": input_data, "stats": stats, "outputs": outputs, "event": event}


_ROWS_PER_INSERT = 80  # per multi-row INSERT (SQLite allows 999 parameters)
# Only table names are interpolated (the models' own); every value is a parameter.
_TABLE = NodeExecution._meta.db_table
_INSERT = (
    f"INSERT INTO {_TABLE} (id, graph_execution_id, node_id, sequence, status, input_data, error,"
    " stats, queued_at, started_at, ended_at)",
    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
)
_LOAD = (
    "SELECT id, node_id, sequence, status, input_data, error, stats, queued_at, started_at,"
    f" ended_at FROM {_TABLE} WHERE graph_execution_id = %s ORDER BY sequence"
)
_LOAD_OUTPUTS = (
    f"SELECT o.node_execution_id, o.pin, o.value FROM {NodeExecutionOutput._meta.db_table} o"
    f" JOIN {_TABLE} n ON n.id = o.node_execution_id WHERE n.graph_execution_id = %s"
    " ORDER BY o.node_execution_id, o.position"
)
_UPDATE = (
    f"UPDATE {_TABLE} SET status = %s, input_data = %s, error = %s, stats = %s, queued_at = %s,"
    " started_at = %s, ended_at = %s WHERE id = %s"
)
_INSERT_OUTPUT = (
    f"INSERT INTO {NodeExecutionOutput._meta.db_table} (node_execution_id, position, pin, value,"
    " created_at)",
    "(%s, %s, %s, %s, CURRENT_TIMESTAMP)",
)
