"""Files uploaded with `POST /api/files/upload`, used as block inputs through the context."""

import base64
from collections.abc import Iterator
from typing import Any

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext, FileNotAvailable


class ReadFileBlock(Block):
    id = "5b1e0f7c-2d4a-4f6b-8c3e-9a7d1b2c4e60"
    name = "Read File"
    description = (
        "Reads one of your uploaded files (its `reference`, `file:<id>`) and outputs its text, "
        "or its bytes as base64 for binary files."
    )
    categories = frozenset({BlockCategory.DATA, BlockCategory.INPUT})

    class Input(BlockSchema):
        file: str = SchemaField(
            description="The file's reference from the upload, e.g. file:6f1c…",
            placeholder="file:<id>",
        )
        as_text: bool = SchemaField(
            True, description="Decode as UTF-8 text; off gives base64 of the bytes."
        )

    class Output(BlockOutput):
        content: str = SchemaField(description="The text, or base64 of the bytes.")
        name: str = SchemaField(description="The file's name as uploaded.")
        content_type: str = SchemaField(description="Its media type.")
        size: int = SchemaField(description="Its size in bytes.")

    test_input = {"file": "file:00000000-0000-0000-0000-000000000000"}
    test_output = [("error", lambda message: "not found" in message.lower())]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if context.files is None:
            yield "error", "Files are not available here."
            return
        try:
            info = context.files.info(input_data.file)
            data = context.files.read(input_data.file)
        except FileNotAvailable as exc:
            yield "error", str(exc)
            return
        if input_data.as_text:
            try:
                content = data.decode("utf-8")
            except UnicodeDecodeError:
                yield "error", f"{info.name} is not UTF-8 text; read it with as_text off."
                return
        else:
            content = base64.b64encode(data).decode("ascii")
        yield "content", content
        yield "name", info.name
        yield "content_type", info.content_type
        yield "size", info.size
