"""The engine's store port on the database: what one commit writes, a load reads back."""

import time
import uuid

import pytest

from apps.executions import runtime
from apps.executions.engine import NodeExecutionRecord, Status
from apps.executions.models import ExecutionEvent, GraphExecution
from apps.executions.store import DatabaseStore
from apps.graphs.runnable import compiled_version
from apps.users.models import User
from tests.dashboard.helpers import make_graph, make_queued_run
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db(transaction=True)


def _queued_run_and_store(owner: User) -> tuple[GraphExecution, DatabaseStore]:
    """A run of the echo graph as POST …/execute leaves it, and the worker's store for it."""
    version = make_graph(owner, echo_graph())
    execution = make_queued_run(owner, version, topic="x")
    runnable = compiled_version(version.graph_id, version.version)
    return execution, runtime.database_store(execution, runnable, relaxed=True)


def test_a_commit_of_many_records_loads_back_as_written(owner: User) -> None:
    _, store = _queued_run_and_store(owner)
    now = time.time()
    # More rows than one multi-row INSERT takes, each with outputs of its own.
    written = [
        NodeExecutionRecord(
            id=str(uuid.uuid4()),
            node_id="print",
            sequence=100 + index,
            status=Status.COMPLETED,
            input_data={"text": index},
            outputs=[("output", index), ("output", {"nested": [index]})],
            stats={"wall_time": 0.001},
            queued_at=now,
            started_at=now,
            ended_at=now + 0.5,
            is_new=True,
        )
        for index in range(170)
    ]

    store.commit(written)

    loaded = {record.id: record for record in store.load()}
    assert len(loaded) == 1 + len(written)  # the entry node execution and ours
    for record in written:
        back = loaded[record.id]
        assert (back.node_id, back.sequence, back.status) == ("print", record.sequence, "completed")
        assert back.input_data == record.input_data
        assert back.outputs == record.outputs
        assert back.ended_at == pytest.approx(record.ended_at, abs=1e-3)


def test_values_rendered_into_its_inserts_come_back_exactly(owner: User) -> None:
    """On PostgreSQL the store's INSERTs carry their values as literals (apps.executions.sql):
    quotes, placeholders, backslashes, other scripts and JSON's own escapes survive, as do the
    events published with them."""
    execution, store = _queued_run_and_store(owner)
    tricky = ["it's", "%s %(x)s %%", "back\\slash", '引用 "quoted"', "line\nbreak", "", None]
    now = time.time()
    written = [
        NodeExecutionRecord(
            id=str(uuid.uuid4()),
            node_id="print",
            sequence=10 + index,
            status=Status.COMPLETED,
            input_data={"text": value, "list": [value, index]},
            outputs=[("output", value), ("output", {"k'ey": value})],
            error=None,
            queued_at=now,
            started_at=now,
            ended_at=now,
            is_new=True,
        )
        for index, value in enumerate(tricky)
    ]

    store.commit(written)

    loaded = {record.id: record for record in store.load()}
    for record in written:
        assert loaded[record.id].input_data == record.input_data
        assert loaded[record.id].outputs == record.outputs
    data = list(
        ExecutionEvent.objects.filter(graph_execution=execution)
        .order_by("seq")
        .values_list("data", flat=True)
    )
    assert [event["input_data"]["text"] for event in data[-len(tricky) :]] == tricky
