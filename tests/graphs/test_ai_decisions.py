"""AI Condition, AI Classifier and AI List Generator against the OpenAI-compatible test server
(SPEC §15): the branch taken, one correction of an answer that does not fit, then a clear error."""

from typing import Any

import pytest

from apps.graphs.blocks.context import ProviderCredentials
from apps.graphs.blocks.library.ai_decisions import (
    AIClassifierBlock,
    AIConditionBlock,
    AIListGeneratorBlock,
)
from apps.graphs.runtime import block_context_build
from tests.processes import LOOPBACK_TEST_PORTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def context(owner, openai_server, settings):
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    credentials = ProviderCredentials(
        provider="openai", api_key="sk-user-0123456789", base_url=openai_server.url, id="c1"
    )
    return block_context_build(user=owner, credentials={"openai": credentials})


def _run(block: Any, data: dict[str, Any], context) -> list[tuple[str, Any]]:
    return list(block.execute(data, context))


def test_it_takes_the_no_branch_with_the_no_value(context, openai_server) -> None:
    openai_server.script("No.")
    outputs = _run(
        AIConditionBlock(),
        {"value": {"mood": "happy"}, "condition": "the customer is angry", "no_value": "calm"},
        context,
    )
    assert outputs == [("result", False), ("no_output", "calm")]
    prompt = openai_server.requests[-1]["body"]["messages"][-1]["content"]
    assert "the customer is angry" in prompt
    assert '{"mood": "happy"}' in prompt


def test_it_corrects_an_answer_once_then_fails_clearly(context, openai_server) -> None:
    openai_server.script("Maybe", "yes")
    assert _run(AIConditionBlock(), {"value": 1, "condition": "odd"}, context)[0] == (
        "result",
        True,
    )
    assert (
        "does not fit: expected yes or no"
        in (openai_server.requests[-1]["body"]["messages"][-1]["content"])
    )
    assert context.stats["llm_retry_count"] == 1
    openai_server.script("Perhaps", "Who knows")
    ((pin, message),) = _run(AIConditionBlock(), {"value": 1, "condition": "odd"}, context)
    assert pin == "error"
    assert message == (
        "The model gave no usable answer in 2 attempts: expected yes or no, got 'Who knows'."
    )


def test_it_classifies_into_one_label_and_its_pin(context, openai_server) -> None:
    openai_server.script("Shipping.")
    outputs = _run(
        AIClassifierBlock(),
        {"value": "Where is my parcel?", "labels": ["billing", "shipping"]},
        context,
    )
    assert outputs == [("label", "shipping"), ("matched", {"shipping": "Where is my parcel?"})]
    openai_server.script("refund", "complaint")
    ((pin, message),) = _run(
        AIClassifierBlock(), {"value": "x", "labels": ["billing", "shipping"]}, context
    )
    assert pin == "error"
    assert "exactly one of ['billing', 'shipping']" in message


def test_it_lists_whole_and_item_by_item_up_to_max_items(context, openai_server) -> None:
    openai_server.script('Here you go:\n```json\n["a", "b", "c"]\n```')
    outputs = _run(AIListGeneratorBlock(), {"prompt": "letters", "max_items": 2}, context)
    assert outputs == [("list", ["a", "b"]), ("item", "a"), ("item", "b")]
    openai_server.script('{"not": "a list"}', "still no list")
    ((pin, message),) = _run(AIListGeneratorBlock(), {"prompt": "letters"}, context)
    assert pin == "error"
    assert message.endswith("the answer holds no JSON list.")
