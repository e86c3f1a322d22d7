"""Graph inputs and outputs, stored values, printing and notes."""

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from apps.graphs.blocks.base import (
    Block,
    BlockCategory,
    BlockOutput,
    BlockSchema,
    BlockType,
    SchemaField,
)
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.templating import render_template

logger = logging.getLogger(__name__)


class AgentInputBlock(Block):
    id = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
    name = "Agent Input"
    description = "A named input of the graph: its value comes from the run's inputs."
    categories = frozenset({BlockCategory.INPUT, BlockCategory.BASIC})
    block_type = BlockType.INPUT
    static_output = True
    inline = True

    class Input(BlockSchema):
        name: str = SchemaField(description="The key of this input in the run's inputs.")
        value: Any = SchemaField(None, description="Filled from the run's inputs.")
        default: Any = SchemaField(None, description="Used when the run gives no value.")
        title: str | None = SchemaField(None, description="Label shown in run forms.")
        description: str | None = SchemaField(None, description="Help shown in run forms.")

    class Output(BlockOutput):
        result: Any = SchemaField(description="The run's value for this input.")

    test_input = {"name": "topic", "value": "otters"}
    test_output = [("result", "otters")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "result", input_data.default if input_data.value is None else input_data.value


class TextInputBlock(Block):
    id = "6f1b8b2a-4f3e-4a57-9a7d-2f0c9d3f5e11"
    name = "Text Input"
    description = "A text input of the graph; its value comes from the run's inputs."
    categories = frozenset({BlockCategory.INPUT, BlockCategory.BASIC})
    block_type = BlockType.INPUT
    static_output = True
    inline = True
    aliases = ("text_input_block",)

    class Input(BlockSchema):
        name: str = SchemaField("text", description="The key of this input in the run's inputs.")
        value: str | None = SchemaField(None, description="Filled from the run's inputs.")
        default: str | None = SchemaField(None, description="Used when the run gives no value.")
        title: str | None = SchemaField(None, description="Label shown in run forms.")
        description: str | None = SchemaField(None, description="Help shown in run forms.")

    class Output(BlockOutput):
        text: str = SchemaField(description="The run's text for this input.")

    test_input = {"value": "hello"}
    test_output = [("text", "hello")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        value = input_data.default if input_data.value is None else input_data.value
        yield "text", value or ""


class AgentOutputBlock(Block):
    id = "363ae599-353e-4804-937e-b2ee3cef3da4"
    name = "Agent Output"
    description = "A named output of the graph, optionally formatted with a Jinja template."
    categories = frozenset({BlockCategory.OUTPUT, BlockCategory.BASIC})
    block_type = BlockType.OUTPUT

    class Input(BlockSchema):
        name: str = SchemaField(description="The key of this output in the run's outputs.")
        value: Any = SchemaField(None, description="The value to record.")
        format: str = SchemaField(
            "", description="Jinja template over {{ value }}, e.g. 'Total: {{ value }}'."
        )
        title: str | None = SchemaField(None, description="Label shown with the output.")
        description: str | None = SchemaField(None, description="Help shown with the output.")

    class Output(BlockOutput):
        output: Any = SchemaField(description="The (formatted) value.")
        name: str = SchemaField(description="The output's name.")

    test_input = [
        {"name": "answer", "value": 42},
        {"name": "answer", "value": 42, "format": "The answer is {{ value }}."},
    ]
    test_output = [
        ("output", 42),
        ("name", "answer"),
        ("output", "The answer is 42."),
        ("name", "answer"),
    ]

    @classmethod
    def runs_inline(cls, input_default: Mapping[str, Any], linked_pins: frozenset[str]) -> bool:
        # Without a template it only hands its value on, pure and instant (every agent ends in
        # outputs: a thread started for each was a fifth of a short run's engine time). A
        # template is the author's code, which needs a thread its time limit can stop.
        return not input_default.get("format") and "format" not in linked_pins

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if input_data.format:
            try:
                text = render_template(input_data.format, {"value": input_data.value})
            except Exception as exc:  # the template is user code: any fault in it is the author's
                yield "error", f"format template failed: {exc}"
                return
            yield "output", text
        else:
            yield "output", input_data.value
        yield "name", input_data.name


class StoreValueBlock(Block):
    id = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"
    name = "Store Value"
    description = (
        "Forwards `data` (or the triggering `input` when no data is set). Its links are static: "
        "the value is reused by every later execution downstream."
    )
    categories = frozenset({BlockCategory.BASIC})
    static_output = True
    inline = True

    class Input(BlockSchema):
        input: Any = SchemaField(description="Triggers the output; forwarded when data is unset.")
        data: Any = SchemaField(None, description="The value to keep and forward.")

    class Output(BlockOutput):
        output: Any = SchemaField(description="The stored value.")

    test_input = [{"input": "trigger", "data": {"k": 1}}, {"input": "only input"}]
    test_output = [("output", {"k": 1}), ("output", "only input")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "output", input_data.input if input_data.data is None else input_data.data


class PrintBlock(Block):
    id = "f3b1c1b2-4c4f-4f0d-a0b1-7c1a3b8e9d21"
    name = "Print"
    description = "Writes a value to the platform log and forwards it."
    categories = frozenset({BlockCategory.BASIC, BlockCategory.DEVELOPER_TOOLS})

    class Input(BlockSchema):
        text: Any = SchemaField(description="What to print.")

    class Output(BlockOutput):
        output: Any = SchemaField(description="The printed value.")

    test_input = {"text": "Hello, World!"}
    test_output = [("output", "Hello, World!")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        logger.info(
            "print block: %s",
            input_data.text,
            extra={"graph_exec_id": context.graph_exec_id, "user_id": context.user_id},
        )
        yield "output", input_data.text


class NoteBlock(Block):
    id = "cc10ff7b-7753-4ff2-9af6-9399b1a7eddc"
    name = "Note"
    description = "A sticky note on the graph; never executed."
    categories = frozenset({BlockCategory.BASIC})
    block_type = BlockType.NOTE

    class Input(BlockSchema):
        text: str = SchemaField("", description="The note's text.")

    class Output(BlockOutput):
        output: str = SchemaField(description="The note's text.")

    test_input = {"text": "Remember to set the API key."}
    test_output = [("output", "Remember to set the API key.")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "output", input_data.text
