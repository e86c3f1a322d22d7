"""SIGTERM on a worker mid-run: the run finishes there within the grace period, or is handed to
another worker after it; either way it completes."""

import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.executions import lifecycle, services
from apps.executions import worker as run_worker
from apps.executions.models import GraphExecution, NodeExecution
from apps.users.models import User
from tests.graphs.graphs import delay_graph, echo_graph
from tests.processes import WorkerProcess, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _start_run(client: APIClient, seconds: float) -> str:
    graph = client.post("/api/graphs", delay_graph(seconds), format="json").json()
    response = client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "otters"}}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["id"]


def _delay_running(run_id: str) -> None:
    wait_for(
        lambda: NodeExecution.objects.filter(
            graph_execution_id=run_id, node__key="wait", status="running"
        ).exists(),
        timeout=60,
        what="the Delay node to be running",
    )


def _finished(run_id: str, timeout: float, *, watchdog: bool = False) -> GraphExecution:
    """With `watchdog`, beat's watchdog runs every few seconds meanwhile, as in production."""
    last_watch = [time.monotonic()]

    def done() -> GraphExecution | None:
        if watchdog and time.monotonic() - last_watch[0] > 5:
            last_watch[0] = time.monotonic()
            run_worker.execution_watchdog()
        run = GraphExecution.objects.get(pk=run_id)
        return run if run.is_terminal else None

    def state() -> str:
        run = GraphExecution.objects.get(pk=run_id)
        return f"{run.status} lease={run.lease_owner!r} until {run.lease_expires_at}"

    try:
        return wait_for(done, timeout=timeout, what=f"run {run_id} to finish")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the run is {state()}") from None


def test_a_run_still_going_after_the_grace_period_is_finished_by_another_worker(
    owner_client: APIClient,
) -> None:
    leases = {"EXECUTION_LEASE_SECONDS": "10"}
    first = WorkerProcess(
        concurrency=1,
        hostname="ops-a",
        env={**leases, "EXECUTION_SHUTDOWN_GRACE_SECONDS": "2"},
    ).start()
    second = WorkerProcess(concurrency=1, hostname="ops-b", env=leases)
    try:
        run_id = _start_run(owner_client, seconds=12)
        _delay_running(run_id)
        taken_by = GraphExecution.objects.get(pk=run_id).lease_owner
        assert taken_by
        second.start()
        signalled = timezone.now()
        first.process.send_signal(signal.SIGTERM)
        # The first worker gives the run up after its 2 s grace, before the delay ends.
        assert first.process.wait(timeout=30) == 0
        exited = timezone.now()
        assert not GraphExecution.objects.get(pk=run_id).is_terminal
        run = _finished(run_id, timeout=120, watchdog=True)
        assert run.status == "completed", run.error_message
        assert run.outputs == {"answer": ["otters"]}
        # Handed over, the attempt does not count against EXECUTION_MAX_ATTEMPTS. (Celery may
        # still take the pool process down before it hands over — seen now and then at warm
        # shutdown; then its redelivered message, or the watchdog, resumes the run once the
        # lease expires.)
        assert run.attempts in (1, 2)
        # The Delay node that was running (since before the signal) ran again, in full, on the
        # second worker, which started it once the 2 s grace was over.
        wait = NodeExecution.objects.get(graph_execution_id=run_id, node__key="wait")
        assert wait.status == "completed"
        assert (wait.started_at - signalled).total_seconds() > 1.5
        assert wait.ended_at > exited
    finally:
        first.stop()
        second.stop()


def test_a_run_that_ends_within_the_grace_period_finishes_on_its_worker(
    owner_client: APIClient,
) -> None:
    worker = WorkerProcess(
        concurrency=1, hostname="ops-c", env={"EXECUTION_SHUTDOWN_GRACE_SECONDS": "120"}
    ).start()
    try:
        run_id = _start_run(owner_client, seconds=4)
        _delay_running(run_id)
        signalled = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=90) == 0
        # No other worker runs: the run completed on the one shutting down, before it exited.
        run = GraphExecution.objects.get(pk=run_id)
        assert run.status == "completed", run.error_message
        assert run.attempts == 1
        assert time.monotonic() - signalled < 60
        waits = NodeExecution.objects.filter(graph_execution_id=run_id, node__key="wait")
        assert list(waits.values_list("status", flat=True)) == ["completed"]
    finally:
        worker.stop()


def test_a_redelivered_run_whose_dead_owner_still_holds_the_lease_resumes_after_it(
    owner: User, owner_client: APIClient
) -> None:
    """A pool process that dies mid-run gets its message redelivered at once, while its lease
    still runs: the message waits the lease out instead of being dropped."""
    graph = owner_client.post("/api/graphs", echo_graph(), format="json").json()
    run = services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "again"}, enqueue=False
    )
    GraphExecution.objects.filter(pk=run.pk).update(
        status="running",
        attempts=1,
        started_at=timezone.now(),
        lease_owner="dead-host:1",
        lease_expires_at=timezone.now() + timedelta(seconds=3),
    )
    worker = WorkerProcess(
        concurrency=1, hostname="ops-d", env={"EXECUTION_LEASE_SECONDS": "3"}
    ).start()
    try:
        lifecycle.enqueue_run(run.pk)  # the redelivered message
        finished = _finished(str(run.pk), timeout=60)
    finally:
        worker.stop()
    assert finished.status == "completed", finished.error_message
    assert finished.outputs == {"answer": ["again"]}
    assert finished.attempts == 2
