import json
import logging
import time

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from apps.realtime import events
from apps.users.services import api_key_create
from tests.factories import UserFactory
from tests.graphs.graphs import echo_graph


@pytest.fixture
def alice(asgi_server):
    return UserFactory(email="alice@example.com", name="Alice")


def _heartbeat(socket) -> dict:
    socket.send(json.dumps({"method": "heartbeat"}))
    return json.loads(socket.recv(timeout=5))


def _close_code(url: str, **kwargs: object) -> int:
    with connect(url, **kwargs) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=5)
    return closed.value.rcvd.code


def test_a_socket_without_credentials_is_closed_with_4001(asgi_server, alice) -> None:
    assert _close_code(f"{asgi_server.ws_url}/ws") == 4001


@pytest.mark.parametrize("token", ["not-a-jwt", "agpt_unknownkeyunknownkeyunknownkey"])
def test_a_socket_with_a_bad_token_is_closed_with_4003(asgi_server, alice, token: str) -> None:
    assert _close_code(f"{asgi_server.ws_url}/ws?token={token}") == 4003


def test_a_jwt_authenticates_and_heartbeats_are_answered(asgi_server, alice) -> None:
    token = str(AccessToken.for_user(alice))
    with connect(f"{asgi_server.ws_url}/ws?token={token}") as socket:
        assert _heartbeat(socket) == {
            "method": "heartbeat",
            "data": "pong",
            "success": True,
            "channel": None,
            "error": None,
        }


def test_an_api_key_authenticates(asgi_server, alice) -> None:
    _, plain = api_key_create(user=alice, name="ws", permissions=["IDENTITY"])
    with connect(f"{asgi_server.ws_url}/ws?token={plain}") as socket:
        assert _heartbeat(socket)["data"] == "pong"


def test_an_api_key_socket_gets_notifications_but_not_chat_which_takes_no_api_key(
    asgi_server, alice
) -> None:
    _, plain = api_key_create(user=alice, name="ws", permissions=["IDENTITY"])
    group = events.user_group(str(alice.pk))
    with (
        connect(f"{asgi_server.ws_url}/ws?token={plain}") as keyed,
        connect(f"{asgi_server.ws_url}/ws?token={AccessToken.for_user(alice)}") as signed_in,
    ):
        _heartbeat(keyed)
        _heartbeat(signed_in)
        events.publish(
            [
                (group, events.message("chat_message_delta", {"delta": "secret"}, group)),
                (group, events.message("notification", {"title": "Hi"}, group)),
            ]
        )
        assert json.loads(keyed.recv(timeout=5))["method"] == "notification"
        methods = [json.loads(signed_in.recv(timeout=5))["method"] for _ in range(2)]
        assert methods == ["chat_message_delta", "notification"]


def test_the_servers_log_of_a_socket_never_shows_its_token(asgi_server, alice) -> None:
    _, plain = api_key_create(user=alice, name="ws", permissions=["IDENTITY"])
    logger = logging.getLogger("uvicorn.error")
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with connect(f"{asgi_server.ws_url}/ws?token={plain}&x=1") as socket:
            assert _heartbeat(socket)["data"] == "pong"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    [accepted] = [line for line in records if "WebSocket" in line]
    assert "/ws?token=[redacted]&x=1" in accepted
    assert plain not in "".join(records)


def test_the_browser_session_authenticates(asgi_server, alice) -> None:
    browser = Client()
    browser.force_login(alice)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    with connect(
        f"{asgi_server.ws_url}/ws",
        additional_headers={"Cookie": cookie},
        origin="http://127.0.0.1",
    ) as socket:
        assert _heartbeat(socket)["data"] == "pong"


def test_a_cross_site_browser_socket_is_refused(asgi_server, alice) -> None:
    token = str(AccessToken.for_user(alice))
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{asgi_server.ws_url}/ws?token={token}", origin="https://evil.example")
    assert refused.value.response.status_code == 403


def test_an_unknown_method_gets_an_error_message(asgi_server, alice) -> None:
    token = str(AccessToken.for_user(alice))
    with connect(f"{asgi_server.ws_url}/ws?token={token}") as socket:
        socket.send(json.dumps({"method": "launch_rockets", "data": {}}))
        reply = json.loads(socket.recv(timeout=5))
    assert reply["method"] == "error"
    assert reply["success"] is False
    assert "launch_rockets" in reply["error"]


def test_a_frame_that_is_not_json_text_gets_an_error_and_the_socket_stays_open(
    asgi_server, alice
) -> None:
    token = str(AccessToken.for_user(alice))
    with connect(f"{asgi_server.ws_url}/ws?token={token}") as socket:
        for frame, problem in [(b"\x00binary", "JSON in text frames"), ("{oops", "not valid JSON")]:
            socket.send(frame)
            reply = json.loads(socket.recv(timeout=5))
            assert (reply["method"], reply["success"]) == ("error", False)
            assert problem in reply["error"]
        assert _heartbeat(socket)["data"] == "pong"


@pytest.mark.slow
def test_an_idle_socket_stays_open_past_the_redis_read_timeout(asgi_server, alice) -> None:
    """redis-py 8 times an idle channel-layer receive() out after 5 s unless configured."""
    token = str(AccessToken.for_user(alice))
    with connect(f"{asgi_server.ws_url}/ws?token={token}") as socket:
        time.sleep(7)  # the point of the test is a socket left idle, not waiting for work
        assert _heartbeat(socket)["data"] == "pong"


def _subscribe(socket, method: str, **data: str) -> dict:
    socket.send(json.dumps({"method": method, "data": data}))
    return json.loads(socket.recv(timeout=5))


def _until_final(socket, graph_exec_id: str) -> list[dict]:
    received = []
    while True:
        message = json.loads(socket.recv(timeout=20))
        received.append(message)
        data = message["data"]
        if (
            message["method"] == "graph_execution_event"
            and data["id"] == graph_exec_id
            and data["status"] in ("completed", "failed", "cancelled", "timeout")
        ):
            return received


def test_a_subscriber_gets_every_node_event_and_the_final_event_in_order(
    worker, asgi_server, alice
) -> None:
    client = APIClient()
    client.force_authenticate(alice)
    graph = client.post("/api/graphs", echo_graph(), format="json").json()
    token = str(AccessToken.for_user(alice))
    with connect(f"{asgi_server.ws_url}/ws?token={token}") as socket:
        ack = _subscribe(socket, "subscribe_graph_executions", graph_id=graph["id"])
        assert ack["success"] is True
        assert ack["method"] == "subscribe_graph_executions"
        run = client.post(
            f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "live"}}, format="json"
        ).json()
        exec_ack = _subscribe(socket, "subscribe_graph_execution", graph_exec_id=run["id"])
        assert exec_ack["success"] is True
        events = _until_final(socket, run["id"])

    graph_events = [e["data"]["status"] for e in events if e["method"] == "graph_execution_event"]
    assert graph_events[-1] == "completed"
    assert "running" in graph_events
    final = events[-1]["data"]
    assert final["outputs"] == {"answer": ["live"]}
    node_events = [e["data"] for e in events if e["method"] == "node_execution_event"]
    rank = {"incomplete": 0, "queued": 1, "running": 2, "completed": 3}
    by_node: dict[str, list[str]] = {}
    for event in node_events:
        by_node.setdefault(event["node_id"], []).append(event["status"])
    assert set(by_node) == {"in", "print", "out"}
    for statuses in by_node.values():
        assert statuses[-1] == "completed"
        assert [rank[s] for s in statuses] == sorted(rank[s] for s in statuses)
    completed_order = [e["node_id"] for e in node_events if e["status"] == "completed"]
    assert completed_order == ["in", "print", "out"]
    assert events.index(events[-1]) > max(
        i for i, e in enumerate(events) if e["method"] == "node_execution_event"
    )
    printed = next(e for e in node_events if e["node_id"] == "print" and e["status"] == "completed")
    assert printed["output_data"] == {"output": ["live"]}


def test_another_users_execution_cannot_be_subscribed_to(worker, asgi_server, alice) -> None:
    bob = UserFactory(email="bob@example.com")
    owner = APIClient()
    owner.force_authenticate(bob)
    graph = owner.post("/api/graphs", echo_graph(), format="json").json()
    run = owner.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "secret"}}, format="json"
    ).json()
    token = str(AccessToken.for_user(alice))
    with connect(f"{asgi_server.ws_url}/ws?token={token}") as socket:
        refused = _subscribe(socket, "subscribe_graph_execution", graph_exec_id=run["id"])
        assert refused["method"] == "error"
        assert refused["success"] is False
        graph_refused = _subscribe(socket, "subscribe_graph_executions", graph_id=graph["id"])
        assert graph_refused["method"] == "error"
        # Nothing of bob's run arrives on alice's socket.
        with pytest.raises(TimeoutError):
            socket.recv(timeout=2)


def test_it_holds_an_api_key_socket_to_the_keys_permissions(worker, asgi_server, alice) -> None:
    # A READ_CREDITS key gets 403 from GET /api/executions/{id}; on /ws it once subscribed to
    # the same run and received its node events and final event.
    owner = APIClient()
    owner.force_authenticate(alice)
    graph = owner.post("/api/graphs", echo_graph(), format="json").json()
    _, credits_only = api_key_create(user=alice, name="credits", permissions=["READ_CREDITS"])
    _, reader = api_key_create(user=alice, name="reader", permissions=["READ_GRAPH"])
    run = owner.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "private"}}, format="json"
    ).json()
    rest = APIClient().get(f"/api/executions/{run['id']}", HTTP_X_API_KEY=credits_only)
    assert rest.status_code == 403
    with connect(f"{asgi_server.ws_url}/ws?token={credits_only}") as socket:
        for method, data in [
            ("subscribe_graph_execution", {"graph_exec_id": run["id"]}),
            ("subscribe_graph_executions", {"graph_id": graph["id"]}),
        ]:
            refused = _subscribe(socket, method, **data)
            assert (refused["method"], refused["success"]) == ("error", False)
            assert refused["error"] == "This API key lacks the READ_GRAPH permission."
        assert _heartbeat(socket)["data"] == "pong"  # still open, and nothing else came
    with connect(f"{asgi_server.ws_url}/ws?token={reader}") as socket:
        ack = _subscribe(socket, "subscribe_graph_executions", graph_id=graph["id"])
        assert ack["success"] is True
        second = owner.post(
            f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "shared"}}, format="json"
        ).json()
        assert _until_final(socket, second["id"])[-1]["data"]["status"] == "completed"
