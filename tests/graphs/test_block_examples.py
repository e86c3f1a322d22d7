"""Every registered block runs on its own examples (SPEC §4), against the real context."""

from typing import Any

import pytest

from apps.graphs.blocks.base import Block
from apps.graphs.blocks.registry import all_blocks
from apps.graphs.runtime import block_context_build
from tests.processes import LOOPBACK_TEST_PORTS
from tests.providers.credentials import example_credentials

TEST_SERVER_TOKEN = "$TEST_SERVER"
PROVIDER_SERVER_TOKEN = "$PROVIDER_SERVER"  # tests/providers/server.py


def _substitute(value: Any, base_url: str, provider_url: str = "") -> Any:
    if isinstance(value, str):
        return value.replace(TEST_SERVER_TOKEN, base_url).replace(
            PROVIDER_SERVER_TOKEN, provider_url
        )
    if isinstance(value, dict):
        return {key: _substitute(item, base_url, provider_url) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, base_url, provider_url) for item in value]
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
    block: Block, owner, http_test_server, openai_server, provider_server, mail_servers, settings
) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    credentials = {}
    if block.credentials_provider:  # each provider's local fake (tests/providers/)
        credentials[block.credentials_provider] = example_credentials(
            block.credentials_provider,
            provider_server=provider_server,
            openai_server=openai_server,
            mail_servers=mail_servers,
        )
    context = block_context_build(
        user=owner, graph_id="00000000-0000-0000-0000-000000000001", credentials=credentials
    )
    examples = block.test_input if isinstance(block.test_input, list) else [block.test_input]
    yielded = []
    for example in examples:
        example = _substitute(example, http_test_server.url, provider_server.url)
        yielded.extend(block.execute(example, context))
    expected = block.test_output
    assert [pin for pin, _ in yielded] == [pin for pin, _ in expected], yielded
    for (pin, value), (_, wanted) in zip(yielded, expected, strict=True):
        wanted = _substitute(wanted, http_test_server.url, provider_server.url)
        assert _matches(value, wanted), (pin, value, wanted)
