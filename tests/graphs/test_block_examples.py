"""Every registered block runs on its own examples (SPEC §4), against the real context."""

from typing import Any

import pytest

from apps.graphs.blocks.base import Block
from apps.graphs.blocks.context import ProviderCredentials
from apps.graphs.blocks.registry import all_blocks
from apps.graphs.runtime import block_context_build
from tests.processes import LOOPBACK_TEST_PORTS

TEST_SERVER_TOKEN = "$TEST_SERVER"


def _substitute(value: Any, base_url: str) -> Any:
    if isinstance(value, str):
        return value.replace(TEST_SERVER_TOKEN, base_url)
    if isinstance(value, dict):
        return {key: _substitute(item, base_url) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, base_url) for item in value]
    return value


def _matches(value: Any, expected: Any) -> bool:
    if isinstance(expected, type):
        return isinstance(value, expected)
    if callable(expected):
        return bool(expected(value))
    return value == expected


@pytest.mark.django_db
@pytest.mark.parametrize("block", all_blocks(), ids=lambda block: block.name)
def test_block_runs_its_examples(
    block: Block, owner, http_test_server, openai_server, settings
) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    credentials = {}
    if block.credentials_provider:  # the AI blocks talk to the OpenAI-compatible test server
        credentials[block.credentials_provider] = ProviderCredentials(
            provider=block.credentials_provider, api_key="sk-test", base_url=openai_server.url
        )
    context = block_context_build(
        user=owner, graph_id="00000000-0000-0000-0000-000000000001", credentials=credentials
    )
    examples = block.test_input if isinstance(block.test_input, list) else [block.test_input]
    yielded = []
    for example in examples:
        yielded.extend(block.execute(_substitute(example, http_test_server.url), context))
    expected = block.test_output
    assert [pin for pin, _ in yielded] == [pin for pin, _ in expected], yielded
    for (pin, value), (_, wanted) in zip(yielded, expected, strict=True):
        assert _matches(value, _substitute(wanted, http_test_server.url)), (pin, value, wanted)
