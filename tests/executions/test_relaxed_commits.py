"""A worker's own steps commit without waiting for PostgreSQL's WAL flush (sql.execute_relaxed):
the `SET LOCAL` rides behind the step's first UPDATE, and the statement's own result (its rows,
its rowcount) is what the caller reads. Run creation stays durable."""

import time
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.executions import runtime
from apps.executions.engine import NodeExecutionRecord, Status
from apps.executions.models import ExecutionEvent, GraphExecution, NodeExecution
from apps.executions.worker.ending import result_write
from apps.executions.worker.lease import lease_acquire
from apps.graphs.runnable import compiled_version
from apps.users.models import User
from tests.dashboard.helpers import make_graph, make_queued_run
from tests.graphs.graphs import echo_graph

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite commits this way throughout"
    ),
]


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def _record(sequence: int) -> NodeExecutionRecord:
    now = time.time()
    return NodeExecutionRecord(
        id=str(uuid.uuid4()),
        node_id="print",
        sequence=sequence,
        status=Status.COMPLETED,
        input_data={"text": sequence},
        outputs=[("output", sequence)],
        queued_at=now,
        started_at=now,
        ended_at=now,
        is_new=True,
    )


@pytest.fixture
def queued(owner: User) -> tuple[GraphExecution, object]:
    version = make_graph(owner, echo_graph())
    execution = make_queued_run(owner, version, topic="x")
    return execution, compiled_version(version.graph_id, version.version)


@pytest.mark.parametrize("server_side_binding", [False, True])
def test_a_workers_step_is_relaxed_and_its_seqs_follow_on(
    queued: tuple[GraphExecution, object], server_side_binding: bool, monkeypatch
) -> None:
    execution, runnable = queued
    if server_side_binding:  # the setting then goes on its own, before the statement
        monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)
    before = GraphExecution.objects.get(pk=execution.pk).event_seq
    store = runtime.database_store(execution, runnable, relaxed=True)

    with transaction.atomic():
        store.commit([_record(5), _record(6)])
        assert _synchronous_commit() == "off"
    assert _synchronous_commit() == "on"  # SET LOCAL: that transaction only

    seqs = ExecutionEvent.objects.filter(graph_execution=execution).values_list("seq", flat=True)
    assert sorted(seqs)[-2:] == [before + 1, before + 2]  # the UPDATE … RETURNING was read


def test_run_creation_and_an_unrelaxed_store_wait_for_the_flush(
    queued: tuple[GraphExecution, object],
) -> None:
    execution, runnable = queued
    with transaction.atomic():
        runtime.database_store(execution, runnable).commit([_record(5)])
        assert _synchronous_commit() == "on"


def test_the_lease_and_the_finish_read_their_own_rowcounts(
    queued: tuple[GraphExecution, object],
) -> None:
    execution, _ = queued
    with transaction.atomic():
        outcome, taken = lease_acquire(execution.pk, "worker-a", enforce_cap=True)
        assert (outcome, _synchronous_commit()) == ("acquired", "off")
    assert taken is not None
    assert lease_acquire(execution.pk, "worker-b", enforce_cap=True) == ("leased", None)

    values = {
        "status": "completed",
        "outputs": {},
        "stats": {},
        "error_message": "",
        "has_errors": False,
        "ended_at": timezone.now(),
        "lease_owner": "",
        "lease_expires_at": None,
    }
    with transaction.atomic():
        assert result_write(execution.pk, "worker-b", values) is False  # not the holder
        assert result_write(execution.pk, "worker-a", values) is True
        assert _synchronous_commit() == "off"
    assert GraphExecution.objects.get(pk=execution.pk).status == "completed"


def test_a_workers_step_goes_in_one_round_trip(queued: tuple[GraphExecution, object]) -> None:
    """Its node executions' INSERT and UPDATEs, their outputs and its events: one simple query
    (sql.Batch), whose last real statement's result is what the events read."""
    execution, runnable = queued
    store = runtime.database_store(execution, runnable, relaxed=True)
    first, second = _record(5), _record(6)
    first.status, first.outputs = Status.RUNNING, []
    second.status, second.outputs = Status.QUEUED, []
    with transaction.atomic():
        store.commit([first, second])
    first.is_new = second.is_new = False
    first.status, first.error = Status.FAILED, "it broke"
    second.status, second.outputs = Status.COMPLETED, [("output", 6)]
    third = _record(7)
    before = GraphExecution.objects.get(pk=execution.pk).event_seq

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        store.commit([first, second, third])
        assert _synchronous_commit() == "off"

    assert len(queries) == 2  # the step, then SHOW
    stored = NodeExecution.objects.filter(graph_execution=execution, sequence__in=[5, 6, 7])
    assert {row.sequence: (row.status, row.error) for row in stored} == {
        5: ("failed", "it broke"),
        6: ("completed", ""),
        7: ("completed", ""),
    }
    seqs = ExecutionEvent.objects.filter(graph_execution=execution, seq__gt=before)
    assert sorted(seqs.values_list("seq", flat=True)) == [before + 1, before + 2, before + 3]
    assert GraphExecution.objects.get(pk=execution.pk).event_seq == before + 3


def test_a_runs_creation_goes_in_one_round_trip(owner: User) -> None:
    """The run, its entry node executions, their events and its own: one query (sql.Batch)."""
    version = make_graph(owner, echo_graph())
    make_queued_run(owner, version)  # the graph compiled: what is left is the run's own
    with CaptureQueriesContext(connection) as queries:
        execution = make_queued_run(owner, version)

    writes = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert len(writes) == 1
    assert 'INSERT INTO "executions_graphexecution"' in writes[0]
    assert "INSERT INTO executions_nodeexecution" in writes[0]
    assert writes[0].count("INSERT INTO executions_executionevent") == 2
    assert ExecutionEvent.objects.filter(graph_execution=execution).count() == 2
