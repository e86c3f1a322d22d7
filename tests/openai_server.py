"""A real OpenAI-compatible HTTP server on loopback, for the AI blocks and chat.

It speaks `/v1/chat/completions` (plain JSON and `stream: true` server-sent events, with usage)
and `/v1/models`. Replies are deterministic: a line `REPLY: <text>` in the last user message is
answered with `<text>`, anything else with `Echo: <last user message>`; `script()` queues replies
that win over both, and `script_tool_calls()` a reply that calls tools. Tokens are counted as
words. Error modes are chosen by the model name: `error-401`, `error-429`, `error-500` answer
with that status and an OpenAI error body, `slow` answers after `slow_seconds`;
`script_statuses()` queues error answers (with an optional Retry-After) for the next requests.
Every request is kept (`requests`, with its monotonic time `at`) for assertions; `hold_stream`
makes a streamed reply wait after its first chunk
until `release_stream()` is called.
"""

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.processes import free_port

MEDIA_PATHS = ("/v1/embeddings", "/v1/images/generations", "/v1/audio/speech")
TINY_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
    "AAAABJRU5ErkJggg=="
)


def _bag_of_words(text: str, size: int = 16) -> list[float]:
    vector = [0.0] * size
    for word in str(text).lower().split():
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % size] += 1.0
    return vector


STATUS_MODELS = {"error-401": 401, "error-429": 429, "error-500": 500}
STATUS_MESSAGES = {
    401: "Incorrect API key provided.",
    429: "Rate limit reached for requests.",
    500: "The server had an error while processing your request.",
    503: "The engine is currently overloaded, please try again later.",
}


def _words(text: str) -> int:
    return len(text.split())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": name, "object": "model", "created": 0, "owned_by": "test"}
                        for name in ("gpt-4o-mini", "gpt-4o", "local-llama")
                    ],
                },
            )
        else:
            self._json(404, {"error": {"message": "no such route", "type": "invalid_request"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.requests.append(
            {"path": self.path, "headers": headers, "body": body, "at": time.monotonic()}
        )
        model = body.get("model", "")
        media = {
            "/v1/embeddings": self._embeddings,
            "/v1/images/generations": self._image,
            "/v1/audio/speech": self._speech,
        }.get(self.path.rstrip("/"))
        if media is not None and model not in STATUS_MODELS:
            media(body)
            return
        if self.path.rstrip("/") not in ("/v1/chat/completions", *MEDIA_PATHS):
            self._json(404, {"error": {"message": "no such route", "type": "invalid_request"}})
            return
        with self.server.lock:
            failure = self.server.statuses.pop(0) if self.server.statuses else None
        if failure is not None or model in STATUS_MODELS:
            status, retry_after = failure or (STATUS_MODELS[model], None)
            self._json(
                status,
                {"error": {"message": STATUS_MESSAGES[status], "type": "error", "code": status}},
                {"Retry-After": str(retry_after)} if retry_after is not None else None,
            )
            return
        if model == "slow":
            time.sleep(self.server.slow_seconds)
        reply = self.server.reply_for(body.get("messages") or [])
        if isinstance(reply, dict):  # scripted with script_tool_calls
            self._tool_calls(model, reply["tool_calls"])
            return
        prompt_tokens = sum(_words(str(m.get("content", ""))) for m in body.get("messages", []))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": _words(reply),
            "total_tokens": prompt_tokens + _words(reply),
        }
        if body.get("stream"):
            self._stream(model, reply, usage, body)
            return
        self._json(
            200,
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            },
        )

    def _tool_calls(self, model: str, calls: list[tuple[str, Any]]) -> None:
        """A reply that calls tools: arguments given as text are sent as they are (a test of
        malformed calls), anything else as its JSON."""
        tool_calls = [
            {
                "id": f"call_{index}_{int(time.time() * 1000)}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
                },
            }
            for index, (name, arguments) in enumerate(calls)
        ]
        self._json(
            200,
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": None, "tool_calls": tool_calls},
                        "finish_reason": "tool_calls",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            },
        )

    def _embeddings(self, body: dict) -> None:
        """Bag-of-words vectors: texts sharing words are near, so similarity is meaningful."""
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else list(texts or [])
        data = [
            {"object": "embedding", "index": index, "embedding": _bag_of_words(text)}
            for index, text in enumerate(texts)
        ]
        tokens = sum(_words(text) for text in texts)
        self._json(200, {"object": "list", "data": data, "model": body.get("model"),
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})  # fmt: skip

    def _image(self, body: dict) -> None:
        # A 1x1 PNG, as the API sends it with response_format=b64_json.
        image = {"b64_json": TINY_PNG, "revised_prompt": f"An image of {body.get('prompt')}"}
        self._json(200, {"created": int(time.time()), "data": [image]})

    def _speech(self, body: dict) -> None:
        audio = b"ID3" + str(body.get("input", "")).encode()[:100]
        self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        self.send_header("Content-Length", str(len(audio)))
        self.end_headers()
        self.wfile.write(audio)

    def _stream(self, model: str, reply: str, usage: dict[str, int], body: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        words = reply.split(" ")
        tokens = [word if index == 0 else f" {word}" for index, word in enumerate(words)]

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
            payload = {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

        chunk({"role": "assistant", "content": ""})
        for index, token in enumerate(tokens):
            chunk({"content": token})
            if index == 0 and self.server.hold_stream:
                self.server.stream_started.set()
                self.server.stream_gate.wait(30)
        chunk({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            payload = {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [],
                "usage": usage,
            }
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.scripted: list[str | dict[str, Any]] = []
        self.statuses: list[tuple[int, float | None]] = []
        self.slow_seconds = 5.0
        self.hold_stream = False
        self.stream_started = threading.Event()
        self.stream_gate = threading.Event()
        self.lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # timeout tests hang up on purpose

    def reply_for(self, messages: list[dict[str, Any]]) -> str | dict[str, Any]:
        with self.lock:
            if self.scripted:
                return self.scripted.pop(0)
        user = [m for m in messages if m.get("role") == "user"]
        last = str(user[-1].get("content", "")) if user else ""
        for line in last.splitlines():
            if line.startswith("REPLY:"):
                return line.removeprefix("REPLY:").strip()
        return f"Echo: {last}"


class OpenAITestServer:
    __test__ = False

    def __init__(self) -> None:
        self.server = _Server()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.server.requests

    def script(self, *replies: str) -> None:
        with self.server.lock:
            self.server.scripted.extend(replies)

    def script_tool_calls(self, *calls: tuple[str, Any]) -> None:
        """Queue one reply that calls tools: (function name, arguments) pairs, in one turn."""
        with self.server.lock:
            self.server.scripted.append({"tool_calls": list(calls)})

    def script_statuses(self, *statuses: int, retry_after: float | None = None) -> None:
        """The next requests are answered with these error statuses, one each, in order."""
        with self.server.lock:
            self.server.statuses.extend((status, retry_after) for status in statuses)

    def hold_stream(self) -> None:
        self.server.hold_stream = True
        self.server.stream_started.clear()
        self.server.stream_gate.clear()

    def release_stream(self) -> None:
        self.server.stream_gate.set()

    def reset(self) -> None:
        self.server.requests.clear()
        with self.server.lock:
            self.server.scripted.clear()
            self.server.statuses.clear()
        self.server.hold_stream = False
        self.server.stream_gate.set()

    def start(self) -> "OpenAITestServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.stream_gate.set()
        self.server.shutdown()
        self.server.server_close()
