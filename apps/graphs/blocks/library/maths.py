"""Arithmetic."""

import math
import operator
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext

MAX_EXPONENT = 10_000
# Results must fit in a float: JSON consumers read numbers as doubles, and Python refuses to
# print integers of more than 4,300 digits, so a larger result could not even be stored.
MAX_RESULT = sys.float_info.max


class Operation(StrEnum):
    ADD = "add"
    SUBTRACT = "subtract"
    MULTIPLY = "multiply"
    DIVIDE = "divide"
    POWER = "power"
    MODULO = "modulo"


_OPERATIONS: dict[Operation, Callable[[Any, Any], Any]] = {
    Operation.ADD: operator.add,
    Operation.SUBTRACT: operator.sub,
    Operation.MULTIPLY: operator.mul,
    Operation.DIVIDE: operator.truediv,
    Operation.POWER: operator.pow,
    Operation.MODULO: operator.mod,
}


def _power_refusal(base: int | float, exponent: int | float) -> str | None:
    if abs(exponent) > MAX_EXPONENT:
        return f"the exponent may be at most {MAX_EXPONENT} in size"
    if base == 0 and exponent < 0:
        return "0 cannot be raised to a negative power"
    # Checked before computing: an integer power is exact, so it would happily build a number
    # of millions of digits before the result check could refuse it. |base| >= 2**(bits - 1).
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and (abs(base).bit_length() - 1) * exponent > sys.float_info.max_exp
    ):
        return "the result is too large"
    return None


class CalculatorBlock(Block):
    id = "9e4b2d17-6a3c-4f85-b0e2-8c7d5a1f3e96"
    name = "Calculator"
    description = (
        "Adds, subtracts, multiplies, divides, raises to a power or takes the remainder of two "
        "numbers. Division by zero and results too large to represent are errors."
    )
    categories = frozenset({BlockCategory.LOGIC})

    class Input(BlockSchema):
        operation: Operation = SchemaField(Operation.ADD, description="What to compute.")
        a: int | float = SchemaField(0, description="The first operand.")
        b: int | float = SchemaField(0, description="The second operand.")
        round_result: bool = SchemaField(False, description="Round to the nearest integer.")

    class Output(BlockOutput):
        result: int | float = SchemaField(description="a (operation) b.")

    test_input = [
        {"operation": "add", "a": 2, "b": 3},
        {"operation": "divide", "a": 7, "b": 2},
        {"operation": "power", "a": 2, "b": 10},
        {"operation": "modulo", "a": 7, "b": 3},
        {"operation": "multiply", "a": 2.4, "b": 4, "round_result": True},
        {"operation": "divide", "a": 1, "b": 0},
        {"operation": "power", "a": 2, "b": 100_000},
    ]
    test_output = [
        ("result", 5),
        ("result", 3.5),
        ("result", 1024),
        ("result", 1),
        ("result", 10),
        ("error", "division by zero"),
        ("error", lambda message: "exponent" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        a, b, operation = input_data.a, input_data.b, input_data.operation
        if operation in (Operation.DIVIDE, Operation.MODULO) and b == 0:
            yield "error", "division by zero"
            return
        if operation is Operation.POWER and (refusal := _power_refusal(a, b)):
            yield "error", refusal
            return
        try:
            result = _OPERATIONS[operation](a, b)
        except OverflowError:
            yield "error", "the result is too large"
            return
        if isinstance(result, complex):
            yield "error", f"{a} to the power of {b} is not a real number"
            return
        if isinstance(result, float) and not math.isfinite(result):
            yield "error", "the result is not a finite number"
            return
        if isinstance(result, int) and abs(result) > MAX_RESULT:
            yield "error", "the result is too large"
            return
        yield "result", round(result) if input_data.round_result else result
