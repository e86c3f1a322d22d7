"""Values kept between runs, per user: private to one agent, or shared by all the user's agents."""

from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext

MAX_KEY_LENGTH = 200  # the key column's width


class StorageScope(StrEnum):
    WITHIN_AGENT = "within_agent"
    ACROSS_AGENTS = "across_agents"


_KV_SCOPES = {StorageScope.WITHIN_AGENT: "agent", StorageScope.ACROSS_AGENTS: "user"}

_SCOPE_DESCRIPTION = (
    "within_agent: only this agent sees the value; across_agents: all your agents share it."
)


class PersistValueBlock(Block):
    id = "4a8c1e6f-9d37-4b2a-85e1-7f3d0b9c6a24"
    name = "Persist Information"
    description = (
        "Stores a value under a key so later runs can read it back with Retrieve Information; "
        "a value already under that key is replaced."
    )
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        key: str = SchemaField(
            min_length=1, max_length=MAX_KEY_LENGTH, description="The name to store it under."
        )
        value: Any = SchemaField(description="The value to store (any JSON value).")
        scope: StorageScope = SchemaField(StorageScope.WITHIN_AGENT, description=_SCOPE_DESCRIPTION)

    class Output(BlockOutput):
        value: Any = SchemaField(description="The stored value.")

    test_input = [
        {"key": "example_last_city", "value": {"city": "Lisbon"}},
        {"key": "example_last_city", "value": "Porto", "scope": "across_agents"},
    ]
    test_output = [("value", {"city": "Lisbon"}), ("value", "Porto")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        context.kv.set(input_data.key, input_data.value, scope=_KV_SCOPES[input_data.scope])
        yield "value", input_data.value


class RetrieveValueBlock(Block):
    id = "e2d6b9a3-7c18-4f54-9b06-3a8e5d1f7c92"
    name = "Retrieve Information"
    description = (
        "Reads the value stored under a key by Persist Information, or `default` when nothing "
        "is stored there."
    )
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        key: str = SchemaField(
            min_length=1, max_length=MAX_KEY_LENGTH, description="The name it was stored under."
        )
        scope: StorageScope = SchemaField(StorageScope.WITHIN_AGENT, description=_SCOPE_DESCRIPTION)
        default: Any = SchemaField(None, description="Sent when nothing is stored.")

    class Output(BlockOutput):
        value: Any = SchemaField(description="The stored value, else the default.")

    # Each block's examples run on a fresh store, so only the empty case can be shown here;
    # the round trip with Persist Information is tested in tests/graphs/test_blocks_data.py.
    test_input = [
        {"key": "example_nothing_here", "default": "fallback"},
        {"key": "example_nothing_here", "scope": "across_agents"},
    ]
    test_output = [("value", "fallback"), ("value", None)]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        value = context.kv.get(input_data.key, scope=_KV_SCOPES[input_data.scope])
        yield "value", input_data.default if value is None else value
