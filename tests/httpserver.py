"""A real HTTP server on loopback for tests of outgoing HTTP (blocks, the SSRF-safe client)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers=headers)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        self.server.requests.append(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = [part for part in url.path.split("/") if part]
        route = parts[0] if parts else ""
        if route == "json":
            self._json(200, {"hello": "world"})
        elif route == "echo":
            try:
                body: object = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            self._json(
                200,
                {
                    "method": self.command,
                    "path": url.path,
                    "query": query,
                    "headers": dict(self.headers.items()),
                    "body": body,
                },
            )
        elif route == "status" and len(parts) == 2:
            self._json(int(parts[1]), {"status": int(parts[1])})
        elif route == "redirect":
            self._send(int(query.get("code", 302)), b"", headers={"Location": query["to"]})
        elif route == "bytes":
            self._send(200, b"x" * int(query.get("n", 0)), content_type="text/plain")
        elif route == "slow":
            time.sleep(float(query.get("seconds", 1)))
            self._json(200, {"slept": float(query.get("seconds", 1))})
        elif route == "text":
            self._send(200, query.get("body", "plain text").encode(), content_type="text/plain")
        else:
            self._json(404, {"error": "no such route"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[str]  # every path asked for, in order

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the size and time-limit tests hang up mid-response on purpose


class TestHttpServer:
    """Routes: /json, /echo (method, headers, query, body), /status/<code>,
    /redirect?to=<url>&code=302, /bytes?n=<count>, /slow?seconds=<s>, /text?body=<text>."""

    __test__ = False  # a fixture, not a test class

    def __init__(self) -> None:
        self.server = _QuietServer(("127.0.0.1", 0), _Handler)
        self.server.requests = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def hits(self, path: str) -> int:
        """How many requests asked for exactly this path (query included)."""
        return self.server.requests.count(path)

    def start(self) -> "TestHttpServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
