"""HTTP for the ASGI server: Django's WSGI handler run on a pool of threads.

Django's own ASGI handler runs every synchronous middleware through its own sync_to_async
hop; with a dozen middlewares that cost ~7 ms of a 8 ms `/health` here. This adapter hops once:
the request body is read on the event loop, the whole Django request runs in a pool thread (each
thread has its own database connection from the pool), and the response goes back on the loop.
Streaming responses (server-sent events) are pulled chunk by chunk from the same thread pool.
"""

import asyncio
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from tempfile import SpooledTemporaryFile
from typing import Any

from django.core.handlers.wsgi import WSGIHandler

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
_DONE = object()
_SPOOL_BYTES = 1024 * 1024


def _environ(scope: Scope, body: Any) -> dict[str, Any]:
    """The WSGI environ of an ASGI HTTP scope (PEP 3333: the path as latin-1 text)."""
    server_name, server_port = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf8").decode("latin1"),
        "PATH_INFO": scope["path"].encode("utf8").decode("latin1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin1"),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port or 80),
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin1").upper().replace("-", "_")
        value = raw_value.decode("latin1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class ThreadedDjangoHttp:
    def __init__(self, *, threads: int) -> None:
        self.handler = WSGIHandler()
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body: Any = BytesIO()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if chunk and isinstance(body, BytesIO) and body.tell() + len(chunk) > _SPOOL_BYTES:
                spooled = SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
                spooled.write(body.getvalue())
                body = spooled
            body.write(chunk)
            if not message.get("more_body", False):
                break
        body.seek(0)
        loop = asyncio.get_running_loop()
        status, headers, chunks = await loop.run_in_executor(
            self.executor, self._respond, _environ(scope, body)
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        try:
            if isinstance(chunks, list):
                await send({"type": "http.response.body", "body": b"".join(chunks)})
                return
            while (
                chunk := await loop.run_in_executor(self.executor, next, chunks, _DONE)
            ) is not _DONE:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await loop.run_in_executor(self.executor, self._close, chunks)
            body.close()

    def _respond(self, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], Any]:
        started: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = [
                (name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers
            ]

        # Django's handler never calls the write() that PEP 3333's start_response returns.
        response: Iterable[bytes] = self.handler(environ, start_response)  # type: ignore[arg-type]
        streaming = getattr(response, "streaming", False)
        chunks: Any = iter(response) if streaming else list(response)
        if not streaming:
            self._close(response)
        else:
            chunks = _Closing(chunks, response)
        return started["status"], started["headers"], chunks

    @staticmethod
    def _close(response: Any) -> None:
        # Django sends request_finished (and returns the DB connection) on close().
        close = getattr(response, "close", None)
        if close is not None:
            close()


class _Closing(Iterator[bytes]):
    """A streaming body whose close() closes the Django response behind it."""

    def __init__(self, chunks: Iterator[bytes], response: Any) -> None:
        self.chunks, self.response = chunks, response

    def __next__(self) -> bytes:
        return next(self.chunks)

    def close(self) -> None:
        self.response.close()
