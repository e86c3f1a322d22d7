"""A real HTTP server on loopback that speaks the part of Stripe's REST API the platform uses.

Requests arrive form-encoded with bracketed keys (`line_items[0][price_data][currency]=usd`), as
the official library sends them; responses are Stripe-shaped JSON objects and errors. Every
request is recorded for assertions. `checkout_completed_event` plays the customer paying on the
hosted page, and `sign_webhook` signs a payload the way Stripe does, so the webhook endpoint is
tested with the library's own verification.
"""

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DECLINED_PAYMENT_METHOD = "pm_card_declined"


@dataclass(frozen=True)
class StripeRequest:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form pairs with bracketed keys → nested dicts; dicts whose keys are 0..n become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _error(status: int, type_: str, message: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": type_, "message": message, **extra}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_StripeHttpServer"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        form = raw if self.command == "POST" else url.query
        request = StripeRequest(
            method=self.command,
            path=url.path,
            params=_nest(parse_qsl(form, keep_blank_values=True)),
            headers=dict(self.headers.items()),
        )
        status, body = self.server.stripe.respond(request)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Request-Id", _new_id("req"))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _handle


class _StripeHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    stripe: "StripeServer"


class StripeServer:
    """Routes: POST /v1/checkout/sessions, POST /v1/payment_intents (declines the payment method
    `pm_card_declined` with a 402 card_error), GET /v1/payment_intents/<id>. Requests need a
    `Bearer sk_…` key; an `Idempotency-Key` seen before replays the first response, as Stripe's
    does."""

    __test__ = False  # a fixture, not a test class

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[StripeRequest] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self._replies: dict[str, tuple[int, dict[str, Any]]] = {}
        self._http = _StripeHttpServer(("127.0.0.1", 0), _Handler)
        self._http.stripe = self
        # A short poll interval: shutdown() waits for the loop to notice, once per test.
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def start(self) -> "StripeServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def requests_to(self, method: str, path: str) -> list[StripeRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    # --- the API ------------------------------------------------------------------------------

    def respond(self, request: StripeRequest) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(request)
            if not request.headers.get("Authorization", "").startswith("Bearer sk_"):
                return _error(401, "invalid_request_error", "Invalid API Key provided.")
            key = request.headers.get("Idempotency-Key")
            if request.method == "POST" and key and key in self._replies:
                return self._replies[key]
            reply = self._route(request)
            if request.method == "POST" and key:
                self._replies[key] = reply
            return reply

    def _route(self, request: StripeRequest) -> tuple[int, dict[str, Any]]:
        if (request.method, request.path) == ("POST", "/v1/checkout/sessions"):
            return self._session_create(request.params)
        if (request.method, request.path) == ("POST", "/v1/payment_intents"):
            return self._payment_intent_create(request.params)
        prefix = "/v1/payment_intents/"
        if request.method == "GET" and request.path.startswith(prefix):
            intent = self.payment_intents.get(request.path.removeprefix(prefix))
            if intent is None:
                return _error(404, "invalid_request_error", "No such payment_intent.")
            return 200, intent
        return _error(
            404,
            "invalid_request_error",
            f"Unrecognized request URL ({request.method}: {request.path}).",
        )

    def _session_create(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        for required in ("mode", "line_items", "success_url", "cancel_url"):
            if required not in params:
                return _error(
                    400,
                    "invalid_request_error",
                    f"Missing required param: {required}.",
                    param=required,
                )
        total = sum(
            int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
            for item in params["line_items"]
        )
        session_id = _new_id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params["mode"],
            "amount_total": total,
            "currency": params["line_items"][0]["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "customer": params.get("customer"),
            "metadata": params.get("metadata", {}),
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "url": f"{self.url}/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return 200, session

    def _payment_intent_create(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = {
            "id": _new_id("pi"),
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "customer": params.get("customer"),
            "payment_method": params.get("payment_method"),
            "metadata": params.get("metadata", {}),
            "status": "succeeded",
        }
        if params.get("payment_method") == DECLINED_PAYMENT_METHOD:
            intent["status"] = "requires_payment_method"
            self.payment_intents[intent["id"]] = intent
            return _error(
                402,
                "card_error",
                "Your card was declined.",
                code="card_declined",
                decline_code="generic_decline",
                payment_intent=intent,
            )
        self.payment_intents[intent["id"]] = intent
        return 200, intent

    # --- the customer's side and Stripe's webhooks --------------------------------------------

    def checkout_completed_event(
        self, session_id: str, *, payment_method: str = "pm_card_visa"
    ) -> dict[str, Any]:
        """The customer pays on the hosted page: the session becomes paid, with a customer and a
        succeeded PaymentIntent; returns the `checkout.session.completed` event Stripe sends."""
        with self._lock:
            session = self.sessions[session_id]
            customer = session["customer"] or _new_id("cus")
            intent = {
                "id": _new_id("pi"),
                "object": "payment_intent",
                "amount": session["amount_total"],
                "currency": session["currency"],
                "customer": customer,
                "payment_method": payment_method,
                "metadata": {},
                "status": "succeeded",
            }
            self.payment_intents[intent["id"]] = intent
            session.update(
                customer=customer,
                payment_intent=intent["id"],
                payment_status="paid",
                status="complete",
            )
            return event("checkout.session.completed", dict(session))


def event(type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _new_id("evt"),
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "livemode": False,
        "type": type_,
        "data": {"object": obj},
    }


def sign_webhook(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256)
    return f"t={signed_at},v1={mac.hexdigest()}"
