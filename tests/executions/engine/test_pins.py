"""Dynamic pins (SPEC §6): splitting names, assembling sink inputs, picking parts of outputs."""

from types import SimpleNamespace
from typing import Any

import pytest

from apps.executions.engine.pins import assemble_inputs, is_missing, pick, split_pin


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("values", ("values", None, "")),
        ("values_$_0", ("values", "_$_", "0")),
        ("values_#_name", ("values", "_#_", "name")),
        ("config_@_timeout", ("config", "_@_", "timeout")),
        ("my_values_$_12", ("my_values", "_$_", "12")),
        # The first separator wins; the rest belongs to the suffix.
        ("values_#_a_$_1", ("values", "_#_", "a_$_1")),
        ("values_$_0_#_a", ("values", "_$_", "0_#_a")),
        ("values_#_", ("values", "_#_", "")),
    ],
)
def test_it_splits_pin_names(name: str, expected: tuple[str, str | None, str]) -> None:
    assert split_pin(name) == expected


@pytest.mark.parametrize(
    ("defaults", "received", "expected"),
    [
        pytest.param({"a": 1, "b": 2}, {}, {"a": 1, "b": 2}, id="defaults fill unlinked pins"),
        pytest.param({"a": 1, "b": 2}, {"b": 20}, {"a": 1, "b": 20}, id="a linked value wins"),
        pytest.param(
            {},
            {"values_$_1": "b", "values_$_0": "a", "values_$_2": "c"},
            {"values": ["a", "b", "c"]},
            id="list in suffix order, not arrival order",
        ),
        pytest.param(
            {},
            {"values_$_10": "ten", "values_$_2": "two", "values_$_0": "zero"},
            {"values": ["zero", "two", "ten"]},
            id="list suffixes compare as numbers",
        ),
        pytest.param(
            {},
            {"values_$_x": "x", "values_$_1": "one", "values_$_y": "y", "values_$_0": "zero"},
            {"values": ["zero", "one", "x", "y"]},
            id="non-numeric list suffixes follow in arrival order",
        ),
        pytest.param(
            {"values": ["default"]},
            {"values_$_0": "linked"},
            {"values": ["linked"]},
            id="an assembled list replaces the default",
        ),
        pytest.param(
            {"values": {"a": 1, "b": 2}},
            {"values_#_b": 20, "values_#_c": 3},
            {"values": {"a": 1, "b": 20, "c": 3}},
            id="dict merged over the default dict",
        ),
        pytest.param(
            {"values": "not a dict"},
            {"values_#_a": 1},
            {"values": {"a": 1}},
            id="dict over a default that is no dict",
        ),
        pytest.param(
            {},
            {"config_@_retries": 3, "config_@_verbose": True},
            {"config": {"retries": 3, "verbose": True}},
            id="object attributes assemble as a mapping",
        ),
        pytest.param(
            {"format": "{{ a }}"},
            {"values_#_a": "A", "items_$_0": 1, "plain": "p"},
            {"format": "{{ a }}", "values": {"a": "A"}, "items": [1], "plain": "p"},
            id="several groups side by side",
        ),
    ],
)
def test_it_assembles_inputs(
    defaults: dict[str, Any], received: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert assemble_inputs(defaults, received) == expected


def test_it_leaves_the_default_dict_untouched_when_merging() -> None:
    default = {"a": 1}
    defaults = {"values": default}

    assemble_inputs(defaults, {"values_#_b": 2})

    assert default == {"a": 1}
    assert defaults == {"values": {"a": 1}}


class _Thing:
    colour = "teal"


@pytest.mark.parametrize(
    ("value", "source_name", "expected"),
    [
        pytest.param({"a": 1}, "output", {"a": 1}, id="a plain pin takes the whole value"),
        pytest.param(["a", "b", "c"], "list_$_1", "b", id="list index"),
        pytest.param(["a", "b", "c"], "list_$_-1", "c", id="negative list index"),
        pytest.param(("a", "b"), "list_$_0", "a", id="tuple index"),
        pytest.param({"key": "v"}, "dictionary_#_key", "v", id="dict key"),
        pytest.param({"key": None}, "dictionary_#_key", None, id="a None entry is still there"),
        pytest.param(_Thing(), "thing_@_colour", "teal", id="attribute"),
        pytest.param(SimpleNamespace(x=0), "thing_@_x", 0, id="falsy attribute"),
        pytest.param({"colour": "red"}, "thing_@_colour", "red", id="attribute of a mapping"),
    ],
)
def test_it_picks_a_part_of_an_output(value: Any, source_name: str, expected: Any) -> None:
    assert pick(value, source_name) == expected


@pytest.mark.parametrize(
    ("value", "source_name"),
    [
        pytest.param(["a"], "list_$_1", id="index past the end"),
        pytest.param(["a"], "list_$_-2", id="negative index past the start"),
        pytest.param(["a"], "list_$_first", id="non-numeric index"),
        pytest.param({"0": "a"}, "list_$_0", id="list index into a dict"),
        pytest.param("abc", "list_$_0", id="list index into text"),
        pytest.param({"key": "v"}, "dictionary_#_other", id="absent key"),
        pytest.param(["key"], "dictionary_#_key", id="dict key into a list"),
        pytest.param(_Thing(), "thing_#_colour", id="dict key into an object"),
        pytest.param(_Thing(), "thing_@_size", id="absent attribute"),
    ],
)
def test_it_reports_a_missing_part(value: Any, source_name: str) -> None:
    assert is_missing(pick(value, source_name))


@pytest.mark.parametrize("value", [None, 0, "", [], {}, False])
def test_it_never_takes_a_real_value_for_missing(value: Any) -> None:
    assert not is_missing(value)
    assert not is_missing(pick(value, "output"))
