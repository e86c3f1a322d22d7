"""No run stuck or lost: worker crashes, lost messages and the per-graph cap, with real workers.

These tests start the workers they need, so they decide which worker runs what.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import DataError, OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from apps.executions import services
from apps.executions import worker as run_worker
from apps.executions.models import GraphExecution, NodeExecution
from apps.executions.store import DatabaseStore
from apps.users.models import User
from tests.graphs.graphs import (
    DELAY,
    INPUT,
    OUTPUT,
    WEB_REQUEST,
    delay_graph,
    echo_graph,
    link,
    node,
)
from tests.processes import WorkerProcess, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
FAST_LEASE = {"EXECUTION_LEASE_SECONDS": "3"}


def _status(graph_exec_id: str) -> str:
    return GraphExecution.objects.values_list("status", flat=True).get(pk=graph_exec_id)


def _create(client: APIClient, payload: dict) -> dict:
    response = client.post("/api/graphs", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _start_runs(client: APIClient, graph: dict, count: int) -> list[str]:
    """`count` runs of `graph` started through the API; their ids."""
    return [
        client.post(
            f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": str(n)}}, format="json"
        ).json()["id"]
        for n in range(count)
    ]


def _run_on_a_worker_that_dies(client: APIClient, graph: dict) -> dict:
    """Start a run of `graph` on a worker of its own, SIGKILLed once the run's `wait` node runs."""
    victim = WorkerProcess(hostname="victim", env=FAST_LEASE).start()
    try:
        run = client.post(
            f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "x"}}, format="json"
        ).json()
        wait_for(
            lambda: NodeExecution.objects.filter(
                graph_execution_id=run["id"], node__key="wait", status="running"
            ).exists(),
            timeout=30,
            what="the Delay node to be running",
        )
    finally:
        victim.kill()
    return run


def _wait_for_the_dead_lease(graph_exec_id: str) -> None:
    wait_for(
        lambda: GraphExecution.objects.filter(
            pk=graph_exec_id, lease_expires_at__lt=timezone.now()
        ).exists(),
        timeout=10,
        what="the dead worker's lease to expire",
    )


def test_a_run_survives_a_sigkilled_worker_without_rerunning_finished_nodes(
    owner_client: APIClient, http_test_server
) -> None:
    first_call = "/echo?step=first"
    last_call = "/echo?step=last"
    payload = {
        "name": "Crash me",
        "nodes": [
            node("in", INPUT, name="topic"),
            node("first", WEB_REQUEST, url=http_test_server.url + first_call),
            node("wait", DELAY, seconds=4),
            node("last", WEB_REQUEST, url=http_test_server.url + last_call),
            node("out", OUTPUT, name="answer"),
        ],
        "links": [
            link("in", "result", "first", "body"),
            link("first", "response", "wait", "data"),
            link("wait", "output", "last", "body"),
            link("last", "response_#_body", "out", "value"),
        ],
    }
    run = _run_on_a_worker_that_dies(owner_client, _create(owner_client, payload))
    assert _status(run["id"]) == "running"
    assert http_test_server.hits(first_call) == 1

    # The dead worker's lease runs out; the watchdog hands the run to whoever is alive.
    _wait_for_the_dead_lease(run["id"])
    rescuer = WorkerProcess(hostname="rescuer", env=FAST_LEASE).start()
    try:
        assert run_worker.execution_watchdog()["resumed"] == 1
        wait_for(lambda: _status(run["id"]) == "completed", timeout=30, what="the resumed run")
    finally:
        rescuer.stop()

    execution = GraphExecution.objects.get(pk=run["id"])
    # `last` echoed what `first` answered, which echoed the run input.
    (answer,) = execution.outputs["answer"]
    assert answer["query"] == {"step": "first"}
    assert answer["body"] == "x"
    assert execution.attempts == 2
    assert http_test_server.hits(first_call) == 1  # finished before the crash: not run again
    assert http_test_server.hits(last_call) == 1
    per_node = {
        key: list(
            NodeExecution.objects.filter(graph_execution=execution, node__key=key).values_list(
                "status", flat=True
            )
        )
        for key in ["in", "first", "wait", "last", "out"]
    }
    assert per_node == {key: ["completed"] for key in per_node}


def test_a_lost_workers_run_resumes_within_a_lease_period_behind_a_backlog(
    owner_client: APIClient, settings
) -> None:
    """SPEC §17: the run of a dead worker resumes through the resume queue as soon as its lease
    is found expired, not after the runs queued behind it."""
    settings.EXECUTION_LEASE_SECONDS = 3  # as the workers' FAST_LEASE
    run = _run_on_a_worker_that_dies(
        owner_client, _create(owner_client, delay_graph(6, name="Victim"))
    )
    quick = _create(owner_client, delay_graph(0.5, name="Backlog"))
    backlog = _start_runs(owner_client, quick, 20)
    rescuer = WorkerProcess(hostname="rescuer", concurrency=1, env=FAST_LEASE).start()
    try:
        _wait_for_the_dead_lease(run["id"])
        dead_owner = GraphExecution.objects.get(pk=run["id"]).lease_owner
        assert run_worker.execution_rescue() == {"resumed": 1, "failed": 0}
        assert run_worker.execution_rescue() == {"resumed": 0, "failed": 0}  # sent once
        found_at = time.monotonic()
        wait_for(
            lambda: (
                GraphExecution.objects.filter(pk=run["id"], attempts=2)
                .exclude(lease_owner=dead_owner)
                .exists()
            ),
            timeout=3,  # one lease period
            what="the rescuer to resume the run",
        )
        waited = time.monotonic() - found_at
        still_queued = GraphExecution.objects.filter(pk__in=backlog, status="queued").count()
        assert still_queued >= 10, f"resumed after {waited:.1f} s, {still_queued} queued"
        wait_for(lambda: _status(run["id"]) == "completed", timeout=30, what="the resumed run")
    finally:
        rescuer.stop()


def test_the_watchdog_picks_up_a_run_whose_message_was_lost(
    owner: User, owner_client: APIClient
) -> None:
    graph = _create(owner_client, echo_graph())
    # Created but never enqueued, and long ago: as if the broker had lost the message.
    run = services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "found"}, enqueue=False
    )
    GraphExecution.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    worker = WorkerProcess(hostname="watchdog").start()
    try:
        assert run_worker.execution_watchdog()["requeued"] == 1
        wait_for(lambda: _status(run.pk) == "completed", timeout=30, what="the recovered run")
    finally:
        worker.stop()
    assert GraphExecution.objects.get(pk=run.pk).outputs == {"answer": ["found"]}


def test_the_watchdog_fails_a_run_that_lost_too_many_workers(owner: User, owner_client) -> None:
    graph = _create(owner_client, echo_graph())
    run = services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "x"}, enqueue=False
    )
    GraphExecution.objects.filter(pk=run.pk).update(
        status="running",
        attempts=3,
        lease_owner="gone-host:1",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert run_worker.execution_watchdog()["failed"] == 1
    run.refresh_from_db()
    assert run.status == "failed"
    assert "interrupted too many times" in run.error_message
    assert run.ended_at is not None


def test_runs_beyond_the_per_graph_cap_wait_queued(owner_client: APIClient) -> None:
    graph = _create(owner_client, delay_graph(1.5))
    worker = WorkerProcess(
        hostname="capped", concurrency=2, env={"EXECUTION_MAX_RUNNING_PER_GRAPH": "1"}
    ).start()
    try:
        runs = _start_runs(owner_client, graph, 2)
        wait_for(
            lambda: GraphExecution.objects.filter(pk__in=runs, status="running").count() == 1,
            timeout=30,
            what="one run to be running",
        )
        # Two pool slots are free, but the second run must wait for the first.
        assert GraphExecution.objects.filter(pk__in=runs, status="queued").count() == 1
        wait_for(
            lambda: GraphExecution.objects.filter(pk__in=runs, status="completed").count() == 2,
            timeout=30,
            what="both runs to complete",
        )
    finally:
        worker.stop()
    first, second = GraphExecution.objects.filter(pk__in=runs).order_by("started_at")
    assert second.started_at >= first.ended_at - timedelta(milliseconds=50)


def test_one_worker_runs_two_runs_side_by_side_under_leases_of_their_own(
    owner_client: APIClient,
) -> None:
    """The default pool is threads: both runs are in the worker's one process, and each holds
    its lease as its own thread, so neither could renew the other's."""
    graph = _create(owner_client, delay_graph(1.5))
    worker = WorkerProcess(hostname="threads", concurrency=2).start()
    try:
        runs = _start_runs(owner_client, graph, 2)
        wait_for(
            lambda: GraphExecution.objects.filter(pk__in=runs, status="running").count() == 2,
            timeout=30,
            what="both runs to be running at once",
        )
        owners = list(
            GraphExecution.objects.filter(pk__in=runs).values_list("lease_owner", flat=True)
        )
        wait_for(
            lambda: GraphExecution.objects.filter(pk__in=runs, status="completed").count() == 2,
            timeout=30,
            what="both runs to complete",
        )
    finally:
        worker.stop()
    processes = {owner.rsplit(":", 1)[0] for owner in owners}
    assert len(processes) == 1, owners  # one process …
    assert len(set(owners)) == 2, owners  # … two owners


def test_a_worker_that_lost_its_lease_stops_without_writing(
    owner: User, owner_client: APIClient, settings
) -> None:
    settings.EXECUTION_LEASE_SECONDS = 1  # renewed (and checked) every third of a second
    graph = _create(owner_client, delay_graph(3))
    execution = services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "x"}, enqueue=False
    )
    outcome: dict[str, object] = {}
    runner = threading.Thread(
        target=lambda: outcome.update(
            result=run_worker.graph_execution_run(graph_exec_id=execution.id, owner="stalled")
        )
    )
    runner.start()
    wait_for(
        lambda: NodeExecution.objects.filter(
            graph_execution=execution, node__key="wait", status="running"
        ).exists(),
        timeout=10,
        what="the Delay node to be running",
    )
    # Another worker takes the run over, as after this one stalled past its expiry.
    GraphExecution.objects.filter(pk=execution.pk).update(lease_owner="rescuer")
    runner.join(timeout=10)

    assert not runner.is_alive()
    assert outcome["result"].status is None
    execution.refresh_from_db()
    assert (execution.status, execution.lease_owner) == ("running", "rescuer")
    assert not NodeExecution.objects.filter(graph_execution=execution, node__key="out").exists()
    wait_node = NodeExecution.objects.get(graph_execution=execution, node__key="wait")
    assert wait_node.status == "running"


def _run_in_thread(execution: GraphExecution) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = run_worker.graph_execution_run(
                graph_exec_id=execution.id, owner="worker"
            )
        except Exception as exc:  # what these tests are about: nothing escapes
            outcome["error"] = exc

    runner = threading.Thread(target=run)
    runner.start()
    wait_for(
        lambda: NodeExecution.objects.filter(
            graph_execution=execution, node__key="wait", status="running"
        ).exists(),
        timeout=10,
        what="the Delay node to be running",
    )
    return runner, outcome


def test_deleting_a_graph_stops_its_running_run_at_once(
    owner: User, owner_client: APIClient
) -> None:
    graph = _create(owner_client, delay_graph(5))
    execution = services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "x"}, enqueue=False
    )
    runner, outcome = _run_in_thread(execution)

    assert owner_client.delete(f"/api/graphs/{graph['id']}").status_code == 204
    runner.join(timeout=3)  # well before the Delay would have ended

    assert not runner.is_alive()
    assert "error" not in outcome
    assert not GraphExecution.objects.filter(pk=execution.pk).exists()


def test_a_run_deleted_under_its_worker_ends_quietly(owner: User, owner_client: APIClient) -> None:
    graph = _create(owner_client, delay_graph(1))
    execution = services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "x"}, enqueue=False
    )
    runner, outcome = _run_in_thread(execution)

    # No stop request this time: the worker finds out when it writes the next step.
    GraphExecution.objects.filter(pk=execution.pk).delete()
    runner.join(timeout=10)

    assert not runner.is_alive()
    assert outcome == {"result": None}


def _run_whose_commits_fail(
    owner: User, client: APIClient, monkeypatch, error: Exception
) -> GraphExecution:
    """A queued echo run, not enqueued; every commit of its progress raises `error`."""
    graph = _create(client, echo_graph())
    execution = services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "x"}, enqueue=False
    )

    def failing(self, changes):
        raise error

    monkeypatch.setattr(DatabaseStore, "commit", failing)
    return execution


def test_a_run_that_hits_an_internal_error_fails_at_once(
    owner: User, owner_client: APIClient, monkeypatch
) -> None:
    error = DataError("value cannot be stored")
    execution = _run_whose_commits_fail(owner, owner_client, monkeypatch, error)

    assert run_worker.graph_execution_run(graph_exec_id=execution.id, owner="worker") is None

    execution.refresh_from_db()
    assert (execution.status, execution.lease_owner) == ("failed", "")
    assert "internal error" in execution.error_message
    assert "value cannot be stored" not in execution.error_message  # internals stay in the logs
    assert not execution.node_executions.exclude(status__in=["completed", "cancelled"]).exists()


def test_a_run_that_loses_its_database_is_left_to_resume(
    owner: User, owner_client: APIClient, monkeypatch
) -> None:
    error = OperationalError("server closed the connection")
    execution = _run_whose_commits_fail(owner, owner_client, monkeypatch, error)

    with pytest.raises(OperationalError):
        run_worker.graph_execution_run(graph_exec_id=execution.id, owner="worker")

    execution.refresh_from_db()
    assert (execution.status, execution.lease_owner) == ("running", "worker")
    monkeypatch.undo()
    GraphExecution.objects.filter(pk=execution.pk).update(lease_expires_at=timezone.now())
    run_worker.graph_execution_run(graph_exec_id=execution.id, owner="rescuer")
    execution.refresh_from_db()
    assert execution.status == "completed"
    assert execution.outputs == {"answer": ["x"]}
