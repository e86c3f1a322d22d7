"""Real platform processes for tests: a Celery worker subprocess and an in-process ASGI server."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _ephemeral_ports() -> str:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except OSError:  # not Linux: IANA's dynamic range
        low, high = "49152", "65535"
    return f"{low}-{high}"


# What blocks may reach on loopback in tests: the ports the test servers bind (port 0 picks one
# of these), never PostgreSQL's 5432 or Redis's 6379.
LOOPBACK_TEST_PORTS = f"127.0.0.1:{_ephemeral_ports()}"


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    """Poll `condition` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def platform_env() -> dict[str, str]:
    """Environment for a child process that must see the test database and the same Redis."""
    env = dict(os.environ)
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        env["SQLITE_PATH"] = str(db["NAME"])
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
    env["REDIS_URL"] = settings.REDIS_URL
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["CACHE_KEY_PREFIX"] = settings.CACHES["default"]["KEY_PREFIX"]
    env["WORKER_HEARTBEAT_SECONDS"] = "1"
    env["NODE_RETRY_BASE_MS"] = "50"  # node retries wait 25 to 50 ms, then 50 to 100 ms
    env["BLOCK_HTTP_ALLOWED_HOSTS"] = LOOPBACK_TEST_PORTS
    return env


class WorkerProcess:
    """A real Celery worker (`celery -A autogpt worker`) on the test database, in a session of
    its own so that `kill()` can SIGKILL it with its pool children, as a crash would."""

    def __init__(
        self,
        *,
        concurrency: int = 2,
        hostname: str = "test-worker",
        env: dict[str, str] | None = None,
    ) -> None:
        self.env = env or {}
        self.command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "autogpt",
            "worker",
            "-l",
            "WARNING",
            "-Q",
            "executions,default,notifications",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{hostname}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "WorkerProcess":
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env={**platform_env(), **self.env}, start_new_session=True
        )
        return self

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AsgiServer:
    """The real ASGI application under uvicorn, in a thread of the test process."""

    def __init__(self) -> None:
        from autogpt.asgi import application

        self.port = free_port()
        config = uvicorn.Config(
            application, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.run(self.server.serve())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> "AsgiServer":
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=10, what="the ASGI server to start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
