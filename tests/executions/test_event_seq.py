"""SPEC §17 "events that cannot be missed": every event of a run carries a stored `seq`;
`subscribe_graph_execution` with `since_seq` replays from the database, then goes live, with no
gap and no duplicate. Through the real ASGI app and a real worker."""

import json
import time

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from websockets.sync.client import connect

from apps.common.redis import get_redis
from apps.executions.events import final_event_sent_key
from apps.executions.models import ExecutionEvent, GraphExecution
from apps.executions.worker.watchdog import execution_watchdog
from tests.factories import UserFactory
from tests.graphs.graphs import delay_graph

FINAL = ("completed", "failed", "cancelled", "timeout")


@pytest.fixture
def alice(asgi_server):
    return UserFactory(email="alice@example.com")


def _send(socket, graph_exec_id: str, **data: object) -> dict:
    payload = {"graph_exec_id": graph_exec_id, **data}
    socket.send(json.dumps({"method": "subscribe_graph_execution", "data": payload}))
    return json.loads(socket.recv(timeout=5))


def _is_final(message: dict) -> bool:
    return message["method"] == "graph_execution_event" and message["data"]["status"] in FINAL


def _until(socket, stop) -> list[dict]:
    """The run's messages up to the first that `stop` accepts (the user's own channel, which
    carries notifications, is not the run's)."""
    received = []
    while True:
        message = json.loads(socket.recv(timeout=20))
        if str(message.get("channel")).startswith("user."):
            continue
        received.append(message)
        if stop(message):
            return received


def _nothing_more(socket) -> None:
    """A heartbeat's answer comes before any other message of the run."""
    socket.send(json.dumps({"method": "heartbeat"}))
    rest = _until(socket, lambda message: message["method"] == "heartbeat")
    assert [message["method"] for message in rest] == ["heartbeat"]


def _start(alice, seconds: float) -> tuple[APIClient, str]:
    client = APIClient()
    client.force_authenticate(alice)
    graph = client.post("/api/graphs", delay_graph(seconds), format="json").json()
    run = client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "seq"}}, format="json"
    ).json()
    return client, run["id"]


def _stored(graph_exec_id: str) -> list[tuple[int, str, object]]:
    rows = ExecutionEvent.objects.filter(graph_execution_id=graph_exec_id).order_by("seq")
    return [(row.seq, row.method, row.data) for row in rows]


def test_a_client_that_reconnects_with_since_seq_gets_every_event_exactly_once(
    worker, asgi_server, alice
) -> None:
    _, graph_exec_id = _start(alice, seconds=2.0)
    url = f"{asgi_server.ws_url}/ws?token={AccessToken.for_user(alice)}"
    with connect(url) as socket:
        ack = _send(socket, graph_exec_id, since_seq=0)
        assert ack["success"] is True
        # Leave mid-run: once the delay node is running (its completion is still to come).
        first = _until(
            socket,
            lambda m: (
                m["method"] == "node_execution_event"
                and m["data"]["node_id"] == "wait"
                and m["data"]["status"] == "running"
            ),
        )
    assert not any(_is_final(message) for message in first)
    with connect(url) as socket:
        ack = _send(socket, graph_exec_id, since_seq=first[-1]["seq"])
        assert ack["success"] is True
        second = _until(socket, _is_final)
        _nothing_more(socket)

    received = first + second
    stored = _stored(graph_exec_id)
    execution = GraphExecution.objects.get(pk=graph_exec_id)
    assert execution.status == "completed"
    assert [seq for seq, _, _ in stored] == list(range(1, execution.event_seq + 1))
    assert [(m["seq"], m["method"], m["data"]) for m in received] == stored
    assert all(m["channel"] == f"exec.{graph_exec_id}" for m in received)
    methods = [method for _, method, _ in stored]
    assert methods.count("graph_execution_event") >= 3  # queued, running, completed
    nodes = {data["node_id"] for _, method, data in stored if method == "node_execution_event"}
    assert nodes == {"in", "wait", "out"}


def test_since_seq_beyond_the_last_event_replays_nothing_and_live_events_follow(
    worker, asgi_server, alice
) -> None:
    _, graph_exec_id = _start(alice, seconds=1.5)
    url = f"{asgi_server.ws_url}/ws?token={AccessToken.for_user(alice)}"
    with connect(url) as socket:
        assert _send(socket, graph_exec_id, since_seq=10**6)["success"] is True
        live = _until(socket, _is_final)
    stored = _stored(graph_exec_id)
    # Live only: what was stored before the subscription is not replayed, and the rest arrives
    # live, each once, in order, ending with the final event.
    seqs = [m["seq"] for m in live]
    assert seqs == sorted(set(seqs))
    assert seqs[-1] == stored[-1][0]
    assert [(m["seq"], m["method"], m["data"]) for m in live] == stored[-len(live) :]

    with connect(url) as socket:  # the run is over: nothing to replay, nothing live
        assert _send(socket, graph_exec_id, since_seq=stored[-1][0])["success"] is True
        _nothing_more(socket)


@pytest.mark.parametrize("since", [-1, "3", 1.5, True, None, [], {}])
def test_a_bad_since_seq_is_a_clear_error(worker, asgi_server, alice, since) -> None:
    _, graph_exec_id = _start(alice, seconds=0)
    url = f"{asgi_server.ws_url}/ws?token={AccessToken.for_user(alice)}"
    with connect(url) as socket:
        reply = _send(socket, graph_exec_id, since_seq=since)
        if since is None:  # no since_seq: the plain subscription of old
            assert reply["success"] is True
            return
        assert reply["method"] == "error"
        assert reply["success"] is False
        assert reply["data"] == {"request_method": "subscribe_graph_execution"}
        assert "since_seq" in reply["error"]
        # The socket stays usable.
        assert _send(socket, graph_exec_id, since_seq=0)["success"] is True


def test_the_watchdogs_republished_final_event_keeps_its_seq(worker, asgi_server, alice) -> None:
    """The watchdog sends again only a final event its worker did not mark sent. The run has
    ended before the socket subscribes (live only, no replay), so the one final event it gets is
    the watchdog's re-publication: the stored final event, same seq and data."""
    _, graph_exec_id = _start(alice, seconds=0)
    deadline = time.monotonic() + 20
    while not GraphExecution.objects.get(pk=graph_exec_id).is_terminal:
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.05)
    run = GraphExecution.objects.get(pk=graph_exec_id)
    original = ExecutionEvent.objects.get(graph_execution_id=graph_exec_id, seq=run.event_seq)
    assert execution_watchdog()["republished"] == 0  # the worker's publication was marked
    # As if the worker had died between the run's last commit and its final event.
    assert get_redis().delete(final_event_sent_key(graph_exec_id)) == 1
    url = f"{asgi_server.ws_url}/ws?token={AccessToken.for_user(alice)}"
    with connect(url) as socket:
        assert _send(socket, graph_exec_id)["success"] is True
        assert execution_watchdog()["republished"] == 1
        again = _until(socket, _is_final)[-1]
    assert original.method == again["method"] == "graph_execution_event"
    assert again["seq"] == run.event_seq
    assert again["data"] == json.loads(json.dumps(original.data))
    assert again["channel"] == f"exec.{graph_exec_id}"
