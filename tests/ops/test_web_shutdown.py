"""SIGTERM on the web process (uvicorn, as runplatform and the image start it): open WebSockets
are closed with 1012 so clients reconnect elsewhere, and the process exits within its grace."""

import signal
import subprocess
import sys
import time

import httpx
import pytest
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.users.models import User
from tests.processes import ROOT, free_port, platform_env, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_sigterm_closes_websockets_with_1012_and_exits(owner: User) -> None:
    port = free_port()
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "autogpt.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "5",
        ],
        cwd=ROOT,
        env=platform_env(),
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(url), timeout=60, what="the web process to answer")
        token = str(AccessToken.for_user(owner))
        with connect(f"ws://127.0.0.1:{port}/ws?token={token}") as socket:
            socket.send('{"method": "heartbeat"}')
            assert "pong" in socket.recv(timeout=10)
            signalled = time.monotonic()
            web.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=10)
        assert closed.value.rcvd.code == 1012
        # uvicorn re-raises the signal once it has shut down: "killed by SIGTERM" is its
        # normal end.
        assert web.wait(timeout=20) in (0, -signal.SIGTERM)
        assert time.monotonic() - signalled < 15
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()
