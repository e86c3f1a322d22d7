"""The Send Web Request block, run with the real context against a server on loopback."""

import socket
from typing import Any
from urllib.parse import quote

import pytest

from apps.graphs.blocks.base import BlockInputError
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.library.http import SendWebRequestBlock
from apps.graphs.blocks.registry import get_block
from apps.graphs.runtime import block_context_build
from apps.users.models import User
from tests import httpserver
from tests.processes import LOOPBACK_TEST_PORTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def context(owner: User, settings) -> BlockContext:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    settings.BLOCK_HTTP_TIMEOUT_SECONDS = 1
    return block_context_build(user=owner)


def run(context: BlockContext, **data: Any) -> list[tuple[str, Any]]:
    block = get_block(SendWebRequestBlock.id)
    assert block is not None
    return list(block.execute(data, context))


def test_it_outputs_a_2xx_body_on_response(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    assert run(context, url=f"{http_test_server.url}/json") == [("response", {"hello": "world"})]


def test_it_outputs_a_4xx_body_on_client_error(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    outputs = run(context, url=f"{http_test_server.url}/status/404")
    assert outputs == [("client_error", {"status": 404})]


def test_it_outputs_a_5xx_body_on_server_error(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    outputs = run(context, url=f"{http_test_server.url}/status/500")
    assert outputs == [("server_error", {"status": 500})]


def test_it_sends_method_headers_and_json_body(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    [(pin, echo)] = run(
        context,
        url=f"{http_test_server.url}/echo",
        method="PATCH",
        headers={"X-Api-Version": "3"},
        body={"name": "otter"},
    )
    assert pin == "response"
    assert echo["method"] == "PATCH"
    assert echo["headers"]["X-Api-Version"] == "3"
    assert echo["headers"]["Content-Type"] == "application/json"
    assert echo["body"] == {"name": "otter"}


def test_it_sends_a_json_text_body_as_json_and_other_text_as_text(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    [(_, as_json)] = run(
        context, url=f"{http_test_server.url}/echo", method="POST", body='{"n": 1}'
    )
    assert as_json["body"] == {"n": 1}
    assert as_json["headers"]["Content-Type"] == "application/json"
    [(_, as_text)] = run(
        context, url=f"{http_test_server.url}/echo", method="POST", body="not json"
    )
    assert as_text["body"] == "not json"
    assert "Content-Type" not in as_text["headers"]


def test_it_returns_text_when_json_format_is_off(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    outputs = run(context, url=f"{http_test_server.url}/json", json_format=False)
    assert outputs == [("response", '{"hello": "world"}')]


def test_it_returns_text_when_a_json_response_is_not_json(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    outputs = run(context, url=f"{http_test_server.url}/text?body=hello")
    assert outputs == [("response", "hello")]


def test_it_puts_the_refusal_of_a_private_url_on_the_error_pin(context: BlockContext) -> None:
    outputs = run(context, url="http://10.0.0.1/admin")
    assert outputs == [("error", "Refused: 10.0.0.1 is a private address")]


def test_it_refuses_loopback_names_that_are_not_allow_listed(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    port = http_test_server.server.server_address[1]
    [(pin, message)] = run(context, url=f"http://localhost:{port}/json")
    assert pin == "error"
    assert message.startswith("Refused: localhost resolves to")


def test_it_refuses_a_redirect_to_cloud_metadata(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    to = quote("http://169.254.169.254/latest/meta-data/", safe="")
    [(pin, message)] = run(context, url=f"{http_test_server.url}/redirect?to={to}")
    assert pin == "error"
    assert message.startswith("Refused: 169.254.169.254 is a link-local address")


def test_it_puts_a_timeout_on_the_error_pin(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    outputs = run(context, url=f"{http_test_server.url}/slow?seconds=3")
    assert outputs == [
        ("error", f"Request to {http_test_server.url}/slow?seconds=3 timed out after 1 seconds")
    ]


def test_it_refuses_an_unknown_method(context: BlockContext) -> None:
    with pytest.raises(BlockInputError, match="method"):
        run(context, url="http://example.com/", method="TRACE")


def _closed_port_url() -> str:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_refused_connection_is_reported_retriable(context: BlockContext, method: str) -> None:
    """Never sent: any method may try again (SPEC §17)."""
    [(pin, message)] = run(context, url=_closed_port_url(), method=method)
    assert pin == "error"
    assert message.startswith("Could not connect")
    assert context.stats["failure_kind"] == "connection"
    assert SendWebRequestBlock.retry_policy is not None
    assert SendWebRequestBlock.retry_policy.is_retriable("connection")


@pytest.mark.parametrize(("method", "retriable"), [("GET", True), ("POST", False)])
def test_a_timeout_is_retriable_only_for_an_idempotent_method(
    http_test_server: httpserver.TestHttpServer,
    context: BlockContext,
    method: str,
    retriable: bool,
) -> None:
    [(pin, message)] = run(context, url=f"{http_test_server.url}/slow?seconds=3", method=method)
    assert pin == "error"
    assert "timed out" in message
    assert context.stats.get("failure_kind") == ("timeout" if retriable else None)


def test_an_answer_is_not_a_failure_to_retry(
    http_test_server: httpserver.TestHttpServer, context: BlockContext
) -> None:
    assert run(context, url=f"{http_test_server.url}/status/503")[0][0] == "server_error"
    assert "failure_kind" not in context.stats
