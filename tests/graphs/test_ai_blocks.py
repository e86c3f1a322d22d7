"""The AI blocks against a real OpenAI-compatible server on loopback (tests/openai_server.py)."""

import socket
from typing import Any

import pytest

from apps.graphs.blocks.context import ProviderCredentials
from apps.graphs.blocks.library.ai import (
    NO_CREDENTIALS,
    AIConversationBlock,
    AIStructuredResponseBlock,
    AITextGeneratorBlock,
    AITextSummarizerBlock,
)
from apps.graphs.blocks.registry import get_block
from apps.graphs.costs import block_cost_amount
from apps.graphs.runtime import block_context_build
from tests.processes import LOOPBACK_TEST_PORTS

pytestmark = pytest.mark.django_db
USER_KEY = "sk-user-0123456789"
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "required": ["name"],
}


@pytest.fixture
def context(owner, openai_server, settings):
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    credentials = ProviderCredentials(
        provider="openai", api_key=USER_KEY, base_url=openai_server.url, id="c1"
    )
    return block_context_build(user=owner, credentials={"openai": credentials})


def _run(block: Any, data: dict[str, Any], context) -> list[tuple[str, Any]]:
    return list(block.execute(data, context))


def test_text_generation_fills_the_prompt_and_counts_tokens(context, openai_server) -> None:
    outputs = _run(
        AITextGeneratorBlock(),
        {"prompt": "Describe {animal}", "prompt_values": {"animal": "otters"}, "model": "gpt-4o"},
        context,
    )
    assert outputs == [("response", "Echo: Describe otters")]
    request = openai_server.requests[-1]
    assert request["headers"]["authorization"] == f"Bearer {USER_KEY}"
    assert request["body"]["model"] == "gpt-4o"
    assert context.stats == {
        "input_token_count": 2,
        "output_token_count": 3,
        "llm_call_count": 1,
        "llm_retry_count": 0,
        "model": "gpt-4o",
    }


def test_the_seed_clients_block_name_is_an_alias() -> None:
    assert isinstance(get_block("llm_call_block"), AITextGeneratorBlock)


def test_structured_response_retries_until_the_answer_is_valid(context, openai_server) -> None:
    openai_server.script(
        "Sure! Here it is: not json", '{"name": 42}', '```json\n{"name": "Bob"}\n```'
    )
    outputs = _run(AIStructuredResponseBlock(), {"prompt": "Who?", "json_schema": SCHEMA}, context)
    assert outputs == [("response", {"name": "Bob"})]
    bodies = [request["body"] for request in openai_server.requests]
    assert len(bodies) == 3
    assert "not valid JSON" in bodies[1]["messages"][-1]["content"]
    assert "does not match the schema at name" in bodies[2]["messages"][-1]["content"]
    assert bodies[2]["messages"][-2] == {"role": "assistant", "content": '{"name": 42}'}
    assert context.stats["llm_call_count"] == 3
    assert context.stats["llm_retry_count"] == 2


def test_structured_response_gives_up_after_its_retries(context, openai_server) -> None:
    openai_server.script("nope", "still nope")
    outputs = _run(
        AIStructuredResponseBlock(),
        {"prompt": "Who?", "json_schema": SCHEMA, "retry": 1},
        context,
    )
    assert len(openai_server.requests) == 2
    assert outputs[0][0] == "error"
    assert "no valid answer in 2 attempts" in outputs[0][1]


def test_structured_response_refuses_an_invalid_schema(context, openai_server) -> None:
    outputs = _run(
        AIStructuredResponseBlock(),
        {"prompt": "Who?", "json_schema": {"type": "no-such-type"}},
        context,
    )
    assert outputs[0][0] == "error"
    assert "not a valid JSON Schema" in outputs[0][1]
    assert openai_server.requests == []


def test_the_summarizer_chunks_a_long_text_and_combines_the_parts(context, openai_server) -> None:
    text = " ".join(f"Sentence number {n} is about otters." for n in range(40))
    outputs = _run(
        AITextSummarizerBlock(),
        {"text": text, "chunk_size": 400, "chunk_overlap": 50},
        context,
    )
    calls = [request["body"]["messages"][-1]["content"] for request in openai_server.requests]
    assert len(calls) >= 3
    assert calls[-1].startswith("Summarise these partial summaries")
    chunk_calls = calls[:-1]
    assert "Sentence number 0 " in chunk_calls[0]
    assert "Sentence number 39 " in chunk_calls[-1]
    assert all(len(call) < 400 + 200 for call in chunk_calls)
    [(pin, summary)] = outputs
    assert pin == "summary"
    assert summary.startswith("Echo: Summarise these partial summaries")
    # The combining call got every partial summary (each an echo of its chunk's prompt).
    assert calls[-1].count("Echo: Summarise the following text") == len(chunk_calls)
    assert context.stats["llm_call_count"] == len(calls)


def test_the_conversation_continues_the_messages(context, openai_server) -> None:
    outputs = _run(
        AIConversationBlock(),
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
            ],
            "prompt": "REPLY: Fine, thanks.",
            "sys_prompt": "Be brief.",
        },
        context,
    )
    sent = openai_server.requests[-1]["body"]["messages"]
    assert [message["role"] for message in sent] == ["system", "user", "assistant", "user"]
    assert outputs[0] == ("response", "Fine, thanks.")
    assert outputs[1][1][-1] == {"role": "assistant", "content": "Fine, thanks."}
    bad = _run(AIConversationBlock(), {"messages": [{"role": "robot", "content": 1}]}, context)
    assert bad[0][0] == "error"
    assert "messages[0]" in bad[0][1]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("error-401", "answered 401: Incorrect API key provided."),
        ("error-429", "answered 429: Rate limit reached"),
        ("error-500", "answered 500: The server had an error"),
    ],
)
def test_provider_errors_come_out_on_the_error_pin(context, model: str, expected: str) -> None:
    outputs = _run(AITextGeneratorBlock(), {"prompt": "Hi", "model": model}, context)
    assert len(outputs) == 1
    pin, message = outputs[0]
    assert pin == "error"
    assert expected in message
    assert USER_KEY not in message


def test_a_slow_provider_times_out_on_the_error_pin(context, openai_server) -> None:
    openai_server.server.slow_seconds = 3
    outputs = _run(
        AITextGeneratorBlock(), {"prompt": "Hi", "model": "slow", "timeout": 0.5}, context
    )
    assert outputs == [
        ("error", f"The provider at {openai_server.url} did not answer within 0.5 s.")
    ]


def test_an_unreachable_provider_is_a_clear_error(owner, settings) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    credentials = ProviderCredentials(
        provider="openai", api_key="k", base_url="http://127.0.0.1:9/v1", id="c1"
    )
    context = block_context_build(user=owner, credentials={"openai": credentials})
    outputs = _run(AITextGeneratorBlock(), {"prompt": "Hi"}, context)
    assert outputs[0][0] == "error"
    assert outputs[0][1].startswith("Could not reach the provider at http://127.0.0.1:9/v1")


def test_a_users_base_url_on_a_private_address_is_refused(owner, openai_server, settings) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = []
    credentials = ProviderCredentials(
        provider="openai", api_key="k", base_url=openai_server.url, id="c1"
    )
    context = block_context_build(user=owner, credentials={"openai": credentials})
    outputs = _run(AITextGeneratorBlock(), {"prompt": "Hi"}, context)
    assert outputs[0][0] == "error"
    assert "Refused: 127.0.0.1 is a loopback address" in outputs[0][1]
    assert openai_server.requests == []


def test_the_platforms_base_url_is_trusted_but_only_for_listed_models(
    owner, openai_server, settings
) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = []
    credentials = ProviderCredentials(
        provider="openai", api_key="sk-platform", base_url=openai_server.url, trusted=True
    )
    context = block_context_build(user=owner, credentials={"openai": credentials})
    assert _run(AITextGeneratorBlock(), {"prompt": "Hi"}, context) == [("response", "Echo: Hi")]
    refused = _run(AITextGeneratorBlock(), {"prompt": "Hi", "model": "local-llama"}, context)
    assert refused[0][0] == "error"
    assert "not offered with the platform's credentials" in refused[0][1]
    assert len(openai_server.requests) == 1


def test_without_credentials_the_block_says_what_to_do(owner) -> None:
    context = block_context_build(user=owner)
    assert _run(AITextGeneratorBlock(), {"prompt": "Hi"}, context) == [("error", NO_CREDENTIALS)]


def test_prices_follow_the_model() -> None:
    block = AITextGeneratorBlock()
    assert block_cost_amount(block, {"prompt": "x"}) == 1  # the default model
    assert block_cost_amount(block, {"prompt": "x", "model": "gpt-4o"}) == 3
    assert block_cost_amount(block, {"prompt": "x", "model": "gpt-4"}) == 14
    assert block_cost_amount(block, {"prompt": "x", "model": "local-llama"}) == 0


def test_a_users_provider_is_reached_at_the_address_that_was_checked(
    owner, openai_server, settings, monkeypatch
) -> None:
    """DNS is asked once per request; the connection goes to that answer, with the name in
    the Host header (no rebinding between check and connect)."""
    real_getaddrinfo = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host == "models.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    port = openai_server.server.server_address[1]
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [f"models.test:{port}"]
    credentials = ProviderCredentials(
        provider="openai", api_key=USER_KEY, base_url=f"http://models.test:{port}/v1", id="c1"
    )
    context = block_context_build(user=owner, credentials={"openai": credentials})
    assert _run(AITextGeneratorBlock(), {"prompt": "Hi"}, context) == [("response", "Echo: Hi")]
    assert asked.count("models.test") == 1  # the connection itself used the checked address
    assert openai_server.requests[-1]["headers"]["host"] == f"models.test:{port}"
