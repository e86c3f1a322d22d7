"""List tools (SPEC §16 data and flow): sort, filter, dedupe, chunk, for-each with index, and
a text diff."""

import difflib
import json
from collections.abc import Iterator
from typing import Any, Literal

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext

AnyList = list[Any]
MISSING = object()


def _field(item: Any, path: str) -> Any:
    """`item`'s value at a dotted path (`author.name`); the item itself for an empty path."""
    value = item
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, dict):
            value = value.get(part, MISSING)
        elif isinstance(value, list) and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else MISSING
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    """Missing and null last; numbers before text; anything else by its JSON form."""
    if value is MISSING or value is None:
        return (3, "")
    if isinstance(value, bool | int | float):
        return (0, float(value))
    if isinstance(value, str):
        return (1, value.casefold())
    return (2, json.dumps(value, sort_keys=True, default=str))


class SortListBlock(Block):
    id = "25f91a31-9e09-42a5-85f5-0ecf26f3db5d"
    name = "Sort List"
    description = (
        "Sorts a list by its items or by a field of each (dotted path); numbers before text, "
        "text case-insensitively, missing values last."
    )
    categories = frozenset({BlockCategory.DATA})
    inline = True

    class Input(BlockSchema):
        list: AnyList = SchemaField(description="The list to sort; it is not changed.")
        key: str = SchemaField("", description="The field to sort by, e.g. `age` or `a.b`.")
        descending: bool = SchemaField(False, description="Largest first.")

    class Output(BlockOutput):
        sorted_list: AnyList = SchemaField(description="The sorted copy.")

    test_input = [
        {"list": [3, "b", None, 1, "A"]},
        {"list": [{"n": "x", "age": 30}, {"n": "y"}, {"n": "z", "age": 4}], "key": "age",
         "descending": True},
    ]  # fmt: skip
    test_output = [
        ("sorted_list", [1, 3, "A", "b", None]),
        ("sorted_list", [{"n": "x", "age": 30}, {"n": "z", "age": 4}, {"n": "y"}]),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        present = [
            item for item in input_data.list if _field(item, input_data.key) not in (MISSING, None)
        ]
        absent = [
            item for item in input_data.list if _field(item, input_data.key) in (MISSING, None)
        ]
        ordered = sorted(
            present,
            key=lambda item: _sort_key(_field(item, input_data.key)),
            reverse=input_data.descending,
        )
        yield "sorted_list", ordered + absent


Operator = Literal["==", "!=", ">", ">=", "<", "<=", "contains", "exists", "truthy"]


def _holds(value: Any, operator: str, expected: Any) -> bool:
    if operator == "exists":
        return value is not MISSING
    if value is MISSING:
        return False
    if operator == "truthy":
        return bool(value)
    if operator == "contains":
        return isinstance(value, str | list | dict) and expected in value
    if operator in ("==", "!="):
        return (value == expected) == (operator == "==")
    try:
        return {
            ">": value > expected,
            ">=": value >= expected,
            "<": value < expected,
            "<=": value <= expected,
        }[operator]
    except TypeError:
        return False


class FilterListBlock(Block):
    id = "03953a72-cd6e-417c-8f38-6478a340e434"
    name = "Filter List"
    description = (
        "Keeps the items whose field (dotted path; empty: the item) satisfies the condition; "
        "the others go to `rejected`."
    )
    categories = frozenset({BlockCategory.DATA, BlockCategory.LOGIC})
    inline = True

    class Input(BlockSchema):
        list: AnyList = SchemaField(description="The list to filter.")
        key: str = SchemaField("", description="The field compared, e.g. `status`.")
        operator: Operator = SchemaField("==", description="How it is compared.")
        value: Any = SchemaField(None, description="What it is compared with.")

    class Output(BlockOutput):
        kept: AnyList = SchemaField(description="Items that satisfy the condition.")
        rejected: AnyList = SchemaField(description="The others.")

    test_input = [
        {"list": [{"s": "open", "n": 1}, {"s": "done", "n": 2}, {"n": 3}], "key": "s",
         "value": "open"},
        {"list": [1, 5, "x", 9], "operator": ">", "value": 4},
    ]  # fmt: skip
    test_output = [
        ("kept", [{"s": "open", "n": 1}]),
        ("rejected", [{"s": "done", "n": 2}, {"n": 3}]),
        ("kept", [5, 9]),
        ("rejected", [1, "x"]),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        kept: list[Any] = []
        rejected: list[Any] = []
        for item in input_data.list:
            value = _field(item, input_data.key)
            (kept if _holds(value, input_data.operator, input_data.value) else rejected).append(
                item
            )
        yield "kept", kept
        yield "rejected", rejected


class DedupeListBlock(Block):
    id = "9d77e1fa-3bb2-43c3-a5d0-a536d212380f"
    name = "Remove Duplicates"
    description = "Keeps the first item of each value (or of each value of a field), in order."
    categories = frozenset({BlockCategory.DATA})
    inline = True

    class Input(BlockSchema):
        list: AnyList = SchemaField(description="The list.")
        key: str = SchemaField("", description="Compare this field instead of the whole item.")

    class Output(BlockOutput):
        unique: AnyList = SchemaField(description="The list without repeats.")
        removed: int = SchemaField(description="How many repeats were dropped.")

    test_input = [
        {"list": [1, 2, 1, {"a": 1}, {"a": 1}, "1"]},
        {"list": [{"id": 1, "v": "a"}, {"id": 1, "v": "b"}, {"id": 2}], "key": "id"},
    ]
    test_output = [
        ("unique", [1, 2, {"a": 1}, "1"]),
        ("removed", 2),
        ("unique", [{"id": 1, "v": "a"}, {"id": 2}]),
        ("removed", 1),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        seen: set[str] = set()
        unique = []
        for item in input_data.list:
            value = _field(item, input_data.key)
            marker = (
                json.dumps(None if value is MISSING else value, sort_keys=True, default=str)
                + type(value).__name__
            )
            if marker not in seen:
                seen.add(marker)
                unique.append(item)
        yield "unique", unique
        yield "removed", len(input_data.list) - len(unique)


class ChunkListBlock(Block):
    id = "97a99a8e-2dbb-4a39-8fb4-b25cb5cb54db"
    name = "Chunk List"
    description = "Splits a list into lists of `size` items (the last may be shorter)."
    categories = frozenset({BlockCategory.DATA})
    inline = True

    class Input(BlockSchema):
        list: AnyList = SchemaField(description="The list to split.")
        size: int = SchemaField(10, ge=1, le=10_000, description="Items per chunk.")

    class Output(BlockOutput):
        chunks: list[AnyList] = SchemaField(description="Every chunk, in order.")
        chunk: AnyList = SchemaField(description="Each chunk, one at a time.")

    test_input = {"list": [1, 2, 3, 4, 5], "size": 2}
    test_output = [
        ("chunks", [[1, 2], [3, 4], [5]]),
        ("chunk", [1, 2]),
        ("chunk", [3, 4]),
        ("chunk", [5]),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        items, size = input_data.list, input_data.size
        chunks = [items[start : start + size] for start in range(0, len(items), size)]
        yield "chunks", chunks
        for chunk in chunks:
            yield "chunk", chunk


class ForEachWithIndexBlock(Block):
    id = "9b1be5a4-d94c-42ba-8ffe-57bef7878e0c"
    name = "For Each (with index)"
    description = (
        "Yields every item with its position (from 0) and whether it is the last, so the "
        "blocks after it run once per item."
    )
    categories = frozenset({BlockCategory.LOGIC, BlockCategory.DATA})
    inline = True

    class Input(BlockSchema):
        items: AnyList = SchemaField(description="The list to go through.")

    class Output(BlockOutput):
        item: Any = SchemaField(description="The current item.")
        index: int = SchemaField(description="Its position, from 0.")
        is_last: bool = SchemaField(description="True for the final item.")
        count: int = SchemaField(description="How many items there are (once, first).")

    test_input = {"items": ["a", "b"]}
    test_output = [
        ("count", 2),
        ("item", "a"),
        ("index", 0),
        ("is_last", False),
        ("item", "b"),
        ("index", 1),
        ("is_last", True),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        total = len(input_data.items)
        yield "count", total
        for index, item in enumerate(input_data.items):
            yield "item", item
            yield "index", index
            yield "is_last", index == total - 1


class TextDiffBlock(Block):
    id = "c0a2df59-d25f-4714-b957-ec59e22fdea7"
    name = "Text Diff"
    description = "Compares two texts line by line: a unified diff and counts of changed lines."
    categories = frozenset({BlockCategory.TEXT})
    inline = True

    class Input(BlockSchema):
        before: str = SchemaField(description="The original text.")
        after: str = SchemaField(description="The changed text.")
        context_lines: int = SchemaField(3, ge=0, le=100, description="Unchanged lines shown.")

    class Output(BlockOutput):
        diff: str = SchemaField(description="The unified diff; empty when equal.")
        added: int = SchemaField(description="Lines only in `after`.")
        removed: int = SchemaField(description="Lines only in `before`.")
        identical: bool = SchemaField(description="The texts are equal.")

    test_input = {"before": "a\nb\nc\n", "after": "a\nB\nc\nd\n", "context_lines": 0}
    test_output = [
        ("diff", "--- before\n+++ after\n@@ -2 +2 @@\n-b\n+B\n@@ -3,0 +4 @@\n+d\n"),
        ("added", 2),
        ("removed", 1),
        ("identical", False),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if len(input_data.before) + len(input_data.after) > 2_000_000:
            yield "error", "The texts are over 2,000,000 characters together."
            return
        lines = list(
            difflib.unified_diff(
                input_data.before.splitlines(keepends=True),
                input_data.after.splitlines(keepends=True),
                fromfile="before",
                tofile="after",
                n=input_data.context_lines,
            )
        )
        body = [line for line in lines if not line.startswith(("---", "+++"))]
        yield "diff", "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        yield "added", sum(1 for line in body if line.startswith("+"))
        yield "removed", sum(1 for line in body if line.startswith("-"))
        yield "identical", input_data.before == input_data.after
