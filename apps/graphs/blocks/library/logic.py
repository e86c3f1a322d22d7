"""Branching blocks: a node downstream of the branch not taken never runs (SPEC §6)."""

import math
import operator
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.library.conversion import number_in_text


def _as_number(value: Any) -> int | float | None:
    """The number a pin value stands for (numbers and numeric text), else None.

    Booleans are not numbers here, so the text "1" does not equal `true`.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    return number_in_text(value) if isinstance(value, str) else None


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    left_number, right_number = _as_number(left), _as_number(right)
    if left_number is None or right_number is None:
        return left, right
    return left_number, right_number


class ComparisonOperator(StrEnum):
    EQUAL = "=="
    NOT_EQUAL = "!="
    LESS_THAN = "<"
    LESS_THAN_OR_EQUAL = "<="
    GREATER_THAN = ">"
    GREATER_THAN_OR_EQUAL = ">="


_COMPARISONS: dict[ComparisonOperator, Callable[[Any, Any], bool]] = {
    ComparisonOperator.EQUAL: operator.eq,
    ComparisonOperator.NOT_EQUAL: operator.ne,
    ComparisonOperator.LESS_THAN: operator.lt,
    ComparisonOperator.LESS_THAN_OR_EQUAL: operator.le,
    ComparisonOperator.GREATER_THAN: operator.gt,
    ComparisonOperator.GREATER_THAN_OR_EQUAL: operator.ge,
}


class ConditionBlock(Block):
    id = "a6f2c8e1-4b7d-4e93-8c15-9d0b3e7a2f64"
    name = "Condition"
    description = (
        "Compares value1 with value2 and yields `result`, then `yes_value` on `yes_output` "
        "when the comparison holds or `no_value` on `no_output` when it does not; nothing is "
        "yielded on the other branch. Numbers and numeric texts compare as numbers."
    )
    categories = frozenset({BlockCategory.LOGIC})

    class Input(BlockSchema):
        value1: Any = SchemaField(description="The left-hand side.")
        operator: ComparisonOperator = SchemaField(
            ComparisonOperator.EQUAL, description="How to compare the two values."
        )
        value2: Any = SchemaField(description="The right-hand side.")
        yes_value: Any = SchemaField(None, description="Sent when true; value1 when unset.")
        no_value: Any = SchemaField(None, description="Sent when false; value1 when unset.")

    class Output(BlockOutput):
        result: bool = SchemaField(description="Whether the comparison holds.")
        yes_output: Any = SchemaField(description="yes_value, only when the comparison holds.")
        no_output: Any = SchemaField(description="no_value, only when it does not.")

    test_input = [
        {"value1": "10", "operator": ">", "value2": 9, "yes_value": "big", "no_value": "small"},
        {"value1": 3, "operator": ">=", "value2": "7.5"},
        {"value1": "apple", "operator": "!=", "value2": "pear"},
        {"value1": "apple", "operator": "<", "value2": 3},
    ]
    test_output = [
        ("result", True),
        ("yes_output", "big"),
        ("result", False),
        ("no_output", 3),
        ("result", True),
        ("yes_output", "apple"),
        ("error", lambda message: "cannot compare" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        left, right = _comparable(input_data.value1, input_data.value2)
        try:
            result = bool(_COMPARISONS[input_data.operator](left, right))
        except TypeError:
            kinds = f"{type(left).__name__} {input_data.operator} {type(right).__name__}"
            yield "error", f"cannot compare {kinds}"
            return
        yield "result", result
        if result:
            yes = input_data.value1 if input_data.yes_value is None else input_data.yes_value
            yield "yes_output", yes
        else:
            no = input_data.value1 if input_data.no_value is None else input_data.no_value
            yield "no_output", no


class IfInputMatchesBlock(Block):
    id = "4d91b7e3-0c58-4a26-b8f9-7e3a1c5d6b02"
    name = "If Input Matches"
    description = (
        "Checks whether the input equals the value (numbers and numeric texts as numbers) and "
        "yields `result`, then `yes_value` on `yes_output` or `no_value` on `no_output`."
    )
    categories = frozenset({BlockCategory.LOGIC})

    class Input(BlockSchema):
        input: Any = SchemaField(description="The value to check.")
        value: Any = SchemaField(description="What it should equal.")
        yes_value: Any = SchemaField(None, description="Sent on a match; the input when unset.")
        no_value: Any = SchemaField(None, description="Sent otherwise; the input when unset.")

    class Output(BlockOutput):
        result: bool = SchemaField(description="Whether the input matched.")
        yes_output: Any = SchemaField(description="yes_value, only on a match.")
        no_output: Any = SchemaField(description="no_value, only without a match.")

    test_input = [
        {"input": "5", "value": 5, "yes_value": "five"},
        {"input": {"a": 1}, "value": {"a": 2}, "no_value": "different"},
        {"input": "done", "value": "done"},
    ]
    test_output = [
        ("result", True),
        ("yes_output", "five"),
        ("result", False),
        ("no_output", "different"),
        ("result", True),
        ("yes_output", "done"),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        left, right = _comparable(input_data.input, input_data.value)
        if left == right:
            yes = input_data.input if input_data.yes_value is None else input_data.yes_value
            yield "result", True
            yield "yes_output", yes
        else:
            no = input_data.input if input_data.no_value is None else input_data.no_value
            yield "result", False
            yield "no_output", no
