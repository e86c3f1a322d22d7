"""A real HTTP server on loopback that speaks the subsets of the providers' APIs the blocks use
(GitHub, Slack, Discord, Telegram, Notion, Google Sheets/Gmail/Calendar, SearXNG, a GraphQL
endpoint, web pages and feeds) and an OAuth2 authorization server (authorization code with PKCE,
refresh tokens). Each provider lives under /<provider>/; a credential's base URL points there.

Tokens: `test-token` is always accepted; OAuth2 grants add theirs; anything else gets the
provider's own 401. Every request is kept in `requests` for assertions."""

import base64
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

VALID_TOKEN = "test-token"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def json(self, status: int, payload: Any, headers: dict | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def text(self, status: int, body: str, content_type: str = "text/html; charset=utf-8"):
        self._send(status, body.encode(), content_type)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        self.raw = raw
        try:
            self.body: Any = json.loads(raw) if raw else None
        except ValueError:
            self.body = None
        self.parts = [part for part in url.path.split("/") if part]
        self.server.record(self.command, url.path, self.query, dict(self.headers), self.body)
        route = self.parts[0] if self.parts else ""
        handler = getattr(self.server.routes, route, None)
        if handler is None:
            self.json(404, {"message": "no such route"})
            return
        handler(self, self.parts[1:])

    def token(self, scheme: str = "Bearer") -> str:
        header = self.headers.get("Authorization", "")
        return header[len(scheme) + 1 :] if header.startswith(scheme + " ") else ""

    def authorised(self, scheme: str = "Bearer") -> bool:
        return self.server.token_valid(self.token(scheme))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        from tests.providers.routes import Routes

        self.routes = Routes()
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.tokens: set[str] = {VALID_TOKEN}
        # OAuth2 state
        self.codes: dict[str, dict[str, str]] = {}
        self.refresh_tokens: set[str] = set()
        self.expires_in = 3600
        self.deny_consent = False
        self.refresh_fails = False
        self.issued = 0

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that went away mid-answer (the timeout tests)

    def record(self, method: str, path: str, query: dict, headers: dict, body: Any) -> None:
        with self.lock:
            self.requests.append(
                {"method": method, "path": path, "query": query, "headers": headers, "body": body}
            )

    def token_valid(self, token: str) -> bool:
        with self.lock:
            return token in self.tokens

    def issue(self) -> dict[str, Any]:
        with self.lock:
            self.issued += 1
            access, refresh = f"at-{self.issued}-{secrets.token_hex(4)}", f"rt-{self.issued}"
            self.tokens.add(access)
            self.refresh_tokens.add(refresh)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": "repo",
        }

    # --- OAuth2 authorization server --------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> str:
        """The consent page, approved at once (or denied): where the browser goes next."""
        redirect = query["redirect_uri"]
        if self.deny_consent:
            answer = {"error": "access_denied", "state": query.get("state", "")}
        else:
            code = secrets.token_urlsafe(12)
            with self.lock:
                self.codes[code] = {
                    "challenge": query.get("code_challenge", ""),
                    "method": query.get("code_challenge_method", ""),
                    "redirect_uri": redirect,
                    "client_id": query.get("client_id", ""),
                    "scope": query.get("scope", ""),
                }
            answer = {"code": code, "state": query.get("state", "")}
        return redirect + ("&" if "?" in redirect else "?") + urlencode(answer)

    def token_answer(self, form: dict[str, str], basic: str) -> tuple[int, dict[str, Any]]:
        client_id = form.get("client_id", "")
        if basic:
            client_id = base64.b64decode(basic).decode().split(":", 1)[0]
        if client_id != "test-client":
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == "authorization_code":
            with self.lock:
                grant = self.codes.pop(form.get("code", ""), None)  # a code is good once
            if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant"}
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if grant["method"] != "S256" or challenge != grant["challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE check failed"}
            return 200, self.issue()
        if form.get("grant_type") == "refresh_token":
            with self.lock:
                known = form.get("refresh_token") in self.refresh_tokens
            if self.refresh_fails or not known:
                return 400, {"error": "invalid_grant", "error_description": "refresh revoked"}
            return 200, self.issue()
        return 400, {"error": "unsupported_grant_type"}


class ProviderTestServer:
    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, provider: str) -> str:
        return f"{self.url}/{provider}"

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._server.lock:
            return list(self._server.requests)

    @property
    def state(self) -> _Server:
        return self._server

    def reset(self) -> None:
        server = self._server
        with server.lock:
            server.requests.clear()
            server.tokens = {VALID_TOKEN}
            server.codes.clear()
            server.refresh_tokens.clear()
        server.expires_in, server.deny_consent, server.refresh_fails = 3600, False, False
        server.routes.reset()

    def start(self) -> "ProviderTestServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
