"""Condition, If Input Matches and the Calculator."""

from typing import Any

import pytest

from apps.graphs.blocks.base import Block, BlockInputError
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.library.logic import ConditionBlock, IfInputMatchesBlock
from apps.graphs.blocks.library.maths import CalculatorBlock
from apps.graphs.kv import DatabaseKeyValueStore
from apps.graphs.runtime import safe_http_client


@pytest.fixture
def context() -> BlockContext:
    """These blocks use nothing from the context; the real store is there but never touched."""
    return BlockContext(
        user_id="alice",
        kv=DatabaseKeyValueStore(user_id="alice", graph_id=None),
        http=safe_http_client(),
    )


def run(block: Block, data: dict[str, Any], context: BlockContext) -> list[tuple[str, Any]]:
    return list(block.execute(data, context))


def compare(value1: Any, operator: str, value2: Any, context: BlockContext, **extra: Any) -> Any:
    data = {"value1": value1, "operator": operator, "value2": value2, **extra}
    return run(ConditionBlock(), data, context)


# --- Condition ----------------------------------------------------------------------------------


def test_it_takes_only_the_yes_branch_when_the_condition_holds(context: BlockContext) -> None:
    result = compare(5, ">", 3, context, yes_value="big", no_value="small")

    assert result == [("result", True), ("yes_output", "big")]


def test_it_takes_only_the_no_branch_when_it_does_not(context: BlockContext) -> None:
    result = compare(2, ">", 3, context, yes_value="big", no_value="small")

    assert result == [("result", False), ("no_output", "small")]


def test_it_sends_value1_on_a_branch_without_its_own_value(context: BlockContext) -> None:
    assert compare("go", "==", "go", context) == [("result", True), ("yes_output", "go")]
    assert compare({"n": 1}, "!=", {"n": 1}, context) == [
        ("result", False),
        ("no_output", {"n": 1}),
    ]


@pytest.mark.parametrize(
    ("value1", "operator", "value2", "expected"),
    [
        ("10", ">", "9", True),  # as text "10" < "9"
        ("10", "<", 9, False),
        (" 2.50 ", "==", 2.5, True),
        ("1e3", "==", 1000, True),
        (3, "<=", "3", True),
        ("-4", ">=", "-3.5", False),
        (7, "!=", "7.0", False),
    ],
)
def test_it_compares_numeric_texts_as_numbers(
    context: BlockContext, value1: Any, operator: str, value2: Any, expected: bool
) -> None:
    assert compare(value1, operator, value2, context)[0] == ("result", expected)


@pytest.mark.parametrize(
    ("value1", "operator", "value2", "expected"),
    [
        ("apple", "<", "banana", True),
        ("abc", "==", "abc", True),
        ("10", "==", "ten", False),
        ("1", "==", True, False),
        ([1, 2], "<", [1, 3], True),
    ],
)
def test_it_compares_other_values_as_given(
    context: BlockContext, value1: Any, operator: str, value2: Any, expected: bool
) -> None:
    assert compare(value1, operator, value2, context)[0] == ("result", expected)


def test_it_reports_values_that_cannot_be_ordered(context: BlockContext) -> None:
    assert compare("apple", ">", 3, context) == [("error", "cannot compare str > int")]


def test_it_refuses_an_unknown_operator(context: BlockContext) -> None:
    with pytest.raises(BlockInputError) as caught:
        compare(1, "=~", 2, context)

    assert "operator" in caught.value.errors


# --- If Input Matches ---------------------------------------------------------------------------


def test_it_takes_the_yes_branch_on_a_match(context: BlockContext) -> None:
    data = {"input": "7", "value": 7, "yes_value": "seven", "no_value": "other"}

    assert run(IfInputMatchesBlock(), data, context) == [("result", True), ("yes_output", "seven")]


def test_it_takes_the_no_branch_without_a_match(context: BlockContext) -> None:
    data = {"input": ["a"], "value": ["b"], "yes_value": "same", "no_value": "different"}

    assert run(IfInputMatchesBlock(), data, context) == [
        ("result", False),
        ("no_output", "different"),
    ]


def test_it_sends_the_input_on_a_branch_without_its_own_value(context: BlockContext) -> None:
    block = IfInputMatchesBlock()

    assert run(block, {"input": {"k": 1}, "value": {"k": 1}}, context) == [
        ("result", True),
        ("yes_output", {"k": 1}),
    ]
    assert run(block, {"input": "x", "value": "y"}, context) == [
        ("result", False),
        ("no_output", "x"),
    ]


# --- Calculator ---------------------------------------------------------------------------------


def calculate(operation: str, a: Any, b: Any, context: BlockContext, **extra: Any) -> Any:
    data = {"operation": operation, "a": a, "b": b, **extra}
    return run(CalculatorBlock(), data, context)


@pytest.mark.parametrize(
    ("operation", "a", "b", "expected"),
    [
        ("add", 2, 3, 5),
        ("subtract", 2, 3.5, -1.5),
        ("multiply", "3", "4", 12),
        ("divide", 9, 3, 3.0),
        ("power", 2, -2, 0.25),
        ("power", 3, 4, 81),
        ("modulo", 7.5, 2, 1.5),
    ],
)
def test_it_calculates(
    context: BlockContext, operation: str, a: Any, b: Any, expected: float
) -> None:
    assert calculate(operation, a, b, context) == [("result", expected)]


def test_it_rounds_when_asked(context: BlockContext) -> None:
    result = calculate("divide", 10, 4, context, round_result=True)

    assert result == [("result", 2)]  # round half to even
    assert isinstance(result[0][1], int)


@pytest.mark.parametrize(("operation", "b"), [("divide", 0), ("modulo", 0), ("divide", 0.0)])
def test_it_reports_division_by_zero(context: BlockContext, operation: str, b: float) -> None:
    assert calculate(operation, 1, b, context) == [("error", "division by zero")]


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (2, 10_001, "the exponent may be at most 10000 in size"),
        (1, -20_000, "the exponent may be at most 10000 in size"),
        (10, 400, "the result is too large"),
        (2**60, 10_000, "the result is too large"),
        (1.5, 10_000, "the result is too large"),
        (0, -1, "0 cannot be raised to a negative power"),
        (-8, 0.5, "-8 to the power of 0.5 is not a real number"),
    ],
)
def test_it_refuses_powers_it_cannot_represent(
    context: BlockContext, a: float, b: float, message: str
) -> None:
    assert calculate("power", a, b, context) == [("error", message)]


def test_it_allows_the_largest_representable_integer_power(context: BlockContext) -> None:
    assert calculate("power", 2, 1023, context) == [("result", 2**1023)]


def test_it_refuses_a_result_that_is_not_finite(context: BlockContext) -> None:
    result = calculate("multiply", 1e308, 10, context)

    assert result == [("error", "the result is not a finite number")]
