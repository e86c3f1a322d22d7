import json
import time

import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from apps.users.services import api_key_create
from tests.factories import UserFactory


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


@pytest.mark.slow
def test_an_idle_socket_stays_open_past_the_redis_read_timeout(asgi_server, alice) -> None:
    """redis-py 8 times an idle channel-layer receive() out after 5 s unless configured."""
    token = str(AccessToken.for_user(alice))
    with connect(f"{asgi_server.ws_url}/ws?token={token}") as socket:
        time.sleep(7)  # the point of the test is a socket left idle, not waiting for work
        assert _heartbeat(socket)["data"] == "pong"
