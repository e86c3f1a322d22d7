"""Type conversion and JSON: shared by the blocks that accept JSON text."""

import json
import math
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext


class ConversionError(ValueError):
    """A user-supplied value cannot become what was asked; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise ConversionError(f"invalid JSON: {name} is not a JSON value")


def parse_json(text: str) -> Any:
    """Strict JSON: NaN and Infinity are refused, since no JSON column can store them."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ConversionError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise ConversionError("invalid JSON: nested too deeply") from None


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dictionary"
    return type(value).__name__


class TargetType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    LIST = "list"
    DICTIONARY = "dictionary"


_TRUE_WORDS = frozenset({"true", "yes", "y", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "n", "off", "0", ""})


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def number_in_text(text: str) -> int | float | None:
    """The finite number a text spells ("42", " 1.5 "), else None."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        number = number_in_text(value)
        if number is None:
            raise ConversionError(f"{value!r} is not a finite number")
        return number
    raise ConversionError(f"cannot convert {kind_of(value)} to a number")


def _to_boolean(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise ConversionError(f"{value!r} is not a yes/no value")
    raise ConversionError(f"cannot convert {kind_of(value)} to a boolean")


def _to_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        value = parse_json(value)
        if not isinstance(value, list):
            raise ConversionError(f"the text holds JSON {kind_of(value)}, not a list")
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [[key, item] for key, item in value.items()]
    raise ConversionError(f"cannot convert {kind_of(value)} to a list")


def _to_dictionary(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = parse_json(value)
        if not isinstance(value, dict):
            raise ConversionError(f"the text holds JSON {kind_of(value)}, not a dictionary")
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and all(
        isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in value
    ):
        return dict(value)
    raise ConversionError(f"cannot convert {kind_of(value)} to a dictionary")


_CONVERTERS = {
    TargetType.STRING: _to_string,
    TargetType.NUMBER: _to_number,
    TargetType.BOOLEAN: _to_boolean,
    TargetType.LIST: _to_list,
    TargetType.DICTIONARY: _to_dictionary,
}


class TypeConverterBlock(Block):
    id = "e7b2a5d8-0f43-4c6a-9b1e-3d8f6c2a7e90"
    name = "Convert Type"
    description = (
        "Converts a value: to text (JSON for lists, dictionaries, booleans and null), a number "
        "(from numeric text or a boolean), a boolean (from numbers or words like yes/no, "
        "true/false, on/off), a list (JSON text, or a dictionary's [key, value] pairs) or a "
        "dictionary (JSON text, or a list of [key, value] pairs). Anything else is an error."
    )
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        value: Any = SchemaField(description="The value to convert.")
        type: TargetType = SchemaField(TargetType.STRING, description="What to convert it to.")

    class Output(BlockOutput):
        value: Any = SchemaField(description="The converted value.")

    test_input = [
        {"value": {"a": [1, 2]}, "type": "string"},
        {"value": " 42 ", "type": "number"},
        {"value": "2.5", "type": "number"},
        {"value": "Yes", "type": "boolean"},
        {"value": "[1, 2]", "type": "list"},
        {"value": [["a", 1]], "type": "dictionary"},
        {"value": "forty-two", "type": "number"},
    ]
    test_output = [
        ("value", '{"a": [1, 2]}'),
        ("value", 42),
        ("value", 2.5),
        ("value", True),
        ("value", [1, 2]),
        ("value", {"a": 1}),
        ("error", lambda message: "not a finite number" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            converted = _CONVERTERS[input_data.type](input_data.value)
        except ConversionError as exc:
            yield "error", str(exc)
            return
        yield "value", converted


class JSONParseBlock(Block):
    id = "1b9e4f7c-5d26-4a83-b0c9-8f2e6d3a1c47"
    name = "Parse JSON"
    description = "Turns JSON text into the value it describes."
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        json_string: str = SchemaField(description="The JSON text.")

    class Output(BlockOutput):
        parsed: Any = SchemaField(description="The value.")

    test_input = [{"json_string": '{"a": [1, true, null]}'}, {"json_string": "{'a': 1}"}]
    test_output = [
        ("parsed", {"a": [1, True, None]}),
        ("error", lambda message: message.startswith("invalid JSON")),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            parsed = parse_json(input_data.json_string)
        except ConversionError as exc:
            yield "error", str(exc)
            return
        yield "parsed", parsed


class JSONFormatBlock(Block):
    id = "8c4d2a6e-3f95-4b17-a8e0-5b7c9d1f2e38"
    name = "Format JSON"
    description = "Turns a value into JSON text, indented for reading or compact."
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        value: Any = SchemaField(description="The value to write as JSON.")
        indent: int | None = SchemaField(
            2, ge=0, le=16, description="Spaces per level; compact on one line when unset."
        )

    class Output(BlockOutput):
        json_string: str = SchemaField(description="The JSON text.")

    test_input = [
        {"value": {"a": [1, 2]}, "indent": None},
        {"value": {"name": "Zoë"}, "indent": 2},
    ]
    test_output = [("json_string", '{"a": [1, 2]}'), ("json_string", '{\n  "name": "Zoë"\n}')]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            text = json.dumps(
                input_data.value, indent=input_data.indent, ensure_ascii=False, allow_nan=False
            )
        except (TypeError, ValueError) as exc:
            yield "error", f"cannot write as JSON: {exc}"
            return
        yield "json_string", text
