"""Outgoing HTTP requests, through the context's SSRF-safe client (SPEC §4, §12)."""

import json
from collections.abc import Iterator
from typing import Any, Literal

from apps.common.safe_http import HttpRequestError, SafeResponse
from apps.graphs.blocks.base import (
    Block,
    BlockCategory,
    BlockOutput,
    BlockSchema,
    FailureKind,
    RetryPolicy,
    SchemaField,
)
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.providers import public_site, transport_failure

# Methods a server may receive twice to the same effect (RFC 9110 §9.2.2): only these are sent
# again after a request that may have reached the server; others only after one that did not.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class SendWebRequestBlock(Block):
    id = "d0767bc2-7edb-447a-8fb1-51be20ca8f82"
    name = "Send Web Request"
    description = (
        "Sends an HTTP request to a public URL and outputs the response body on `response` (2xx), "
        "`client_error` (4xx) or `server_error` (5xx). A request that got no answer (a timeout, "
        "a refused connection) is tried again; a POST or PATCH only if it never reached the "
        "server."
    )
    categories = frozenset({BlockCategory.DEVELOPER_TOOLS, BlockCategory.COMMUNICATION})
    # A 429 or 5xx is an answer, routed on its pin; only requests that got no answer retry.
    retry_policy = RetryPolicy(retriable=frozenset({FailureKind.CONNECTION, FailureKind.TIMEOUT}))

    class Input(BlockSchema):
        url: str = SchemaField(
            description="The http:// or https:// URL to send the request to.",
            placeholder="https://api.example.com/items",
        )
        method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = SchemaField(
            "GET", description="The HTTP method."
        )
        # Secret: headers usually carry a token, so they stay out of exports and run records.
        headers: dict[str, str] = SchemaField(
            {},
            description="Request headers, e.g. {'Authorization': 'Bearer …'}.",
            advanced=True,
            secret=True,
        )
        json_format: bool = SchemaField(
            True,
            description=(
                "Send the body as JSON and parse a JSON response. A text body that is not JSON is "
                "sent as plain text. When off, the body is sent as text and the response is text."
            ),
            advanced=True,
        )
        body: Any = SchemaField(None, description="The request body; none when empty.")

    class Output(BlockOutput):
        response: Any = SchemaField(description="The body of a successful (2xx) response.")
        client_error: Any = SchemaField(description="The body of a 4xx response.")
        server_error: Any = SchemaField(description="The body of a 5xx response.")

    test_input = [
        {"url": "$TEST_SERVER/json"},
        {"url": "$TEST_SERVER/echo", "method": "POST", "body": {"animal": "otter"}},
        {"url": "$TEST_SERVER/status/404"},
        {"url": "$TEST_SERVER/text?body=plain", "json_format": False},
    ]
    test_output = [
        ("response", {"hello": "world"}),
        ("response", lambda echo: echo["method"] == "POST" and echo["body"] == {"animal": "otter"}),
        ("client_error", {"status": 404}),
        ("response", "plain"),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        payload, content = _request_body(input_data.body, input_data.json_format)
        try:
            response: SafeResponse = context.http.request(
                input_data.method,
                input_data.url,
                headers=input_data.headers,
                json=payload,
                content=content,
            )
        except (HttpRequestError, ValueError) as exc:
            # UnsafeUrlError is a ValueError; its message says why the destination was refused.
            if isinstance(exc, HttpRequestError) and (
                input_data.method in IDEMPOTENT_METHODS or not exc.sent
            ):
                context.report_failure(transport_failure(public_site(input_data.url), exc).kind)
            yield "error", str(exc)
            return
        result = _response_body(response, input_data.json_format)
        status = response.status_code
        if 200 <= status < 300:
            yield "response", result
        elif 400 <= status < 500:
            yield "client_error", result
        elif 500 <= status < 600:
            yield "server_error", result
        else:
            yield "error", f"Unexpected HTTP status {status} from {response.url}"


def _request_body(body: Any, json_format: bool) -> tuple[Any, str | None]:
    """(json, content) for the client: a JSON value, or text, or neither."""
    if body is None:
        return None, None
    if not json_format:
        return None, body if isinstance(body, str) else json.dumps(body, default=str)
    if isinstance(body, str):
        try:
            return json.loads(body), None
        except ValueError:
            return None, body
    return body, None


def _response_body(response: SafeResponse, json_format: bool) -> Any:
    if json_format and response.content:
        try:
            return response.json()
        except ValueError:
            pass
    return response.text
