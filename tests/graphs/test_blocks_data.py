"""Lists, dictionaries, iteration, conversion, JSON, and persisted values."""

import uuid
from typing import Any

import pytest

from apps.graphs.blocks.base import Block, BlockInputError
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.library.conversion import (
    JSONFormatBlock,
    JSONParseBlock,
    TypeConverterBlock,
)
from apps.graphs.blocks.library.data import (
    AddToDictBlock,
    AddToListBlock,
    CountItemsBlock,
    CreateDictBlock,
    CreateListBlock,
    FindInDictBlock,
    FindInListBlock,
    ListIteratorBlock,
)
from apps.graphs.blocks.library.persistence import PersistValueBlock, RetrieveValueBlock
from apps.graphs.kv import DatabaseKeyValueStore
from apps.graphs.runtime import block_context_build, safe_http_client
from apps.users.models import User


@pytest.fixture
def context() -> BlockContext:
    """Data blocks use nothing from the context; the real store is there but never touched."""
    return BlockContext(
        user_id="alice",
        kv=DatabaseKeyValueStore(user_id="alice", graph_id=None),
        http=safe_http_client(),
    )


def run(block: Block, data: dict[str, Any], context: BlockContext) -> list[tuple[str, Any]]:
    return list(block.execute(data, context))


# --- Building lists and dictionaries ------------------------------------------------------------


def test_it_creates_a_list_and_a_dictionary(context: BlockContext) -> None:
    assert run(CreateListBlock(), {"values": [1, "two"]}, context) == [("list", [1, "two"])]
    assert run(CreateListBlock(), {}, context) == [("list", [])]
    assert run(CreateDictBlock(), {"values": {"a": 1}}, context) == [("dictionary", {"a": 1})]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"list": [1, 2], "entry": 3}, [1, 2, 3]),
        ({"list": [1, 2], "entry": 0}, [1, 2, 0]),
        ({"list": [1], "entries": [2, 3], "entry": 4}, [1, 2, 3, 4]),
        ({"list": ["a", "c"], "entry": "b", "position": 1}, ["a", "b", "c"]),
        ({"list": ["a", "c"], "entry": "b", "position": -1}, ["a", "b", "c"]),
        ({"list": ["a"], "entry": "z", "position": 99}, ["a", "z"]),
        ({"list": ["a"]}, ["a"]),
    ],
)
def test_it_adds_to_a_list(
    context: BlockContext, data: dict[str, Any], expected: list[Any]
) -> None:
    assert run(AddToListBlock(), data, context) == [("updated_list", expected)]


def test_it_leaves_the_given_list_and_dictionary_unchanged(context: BlockContext) -> None:
    items, mapping = [1], {"a": 1}

    run(AddToListBlock(), {"list": items, "entry": 2}, context)
    run(AddToDictBlock(), {"dictionary": mapping, "key": "b", "value": 2}, context)

    assert items == [1]
    assert mapping == {"a": 1}


def test_it_adds_to_a_dictionary(context: BlockContext) -> None:
    data = {"dictionary": {"a": 1, "b": 2}, "key": "b", "value": None, "entries": {"c": 3}}

    result = run(AddToDictBlock(), data, context)

    assert result == [("updated_dictionary", {"a": 1, "b": None, "c": 3})]


# --- Finding ------------------------------------------------------------------------------------


def test_it_finds_the_first_index_of_a_value(context: BlockContext) -> None:
    result = run(
        FindInListBlock(), {"list": [{"id": 1}, {"id": 2}, {"id": 2}], "value": {"id": 2}}, context
    )

    assert result == [("index", 1), ("found_item", {"id": 2})]


def test_it_reports_a_value_that_is_not_in_the_list(context: BlockContext) -> None:
    result = run(FindInListBlock(), {"list": [1, 2], "value": 3}, context)

    assert result == [("not_found_value", 3)]


@pytest.mark.parametrize(
    ("container", "key", "expected"),
    [
        ({"a": {"b": 1}}, "a", ("output", {"b": 1})),
        ({"1": "one"}, 1, ("output", "one")),
        (["x", "y"], 1, ("output", "y")),
        (["x", "y"], "0", ("output", "x")),
        (["x", "y"], -2, ("output", "x")),
        ([{"n": 1}, {"m": 2}, {"n": 3}], "n", ("output", [1, 3])),
        ({"a": 1}, "b", ("missing", {"a": 1})),
        (["x", "y"], 2, ("missing", ["x", "y"])),
        (["x", "y"], -3, ("missing", ["x", "y"])),
        ([{"m": 2}], "n", ("missing", [{"m": 2}])),
        ([], "n", ("missing", [])),
    ],
)
def test_it_finds_in_a_dictionary_or_list(
    context: BlockContext, container: Any, key: Any, expected: tuple[str, Any]
) -> None:
    assert run(FindInDictBlock(), {"input": container, "key": key}, context) == [expected]


# --- Iterating and counting ---------------------------------------------------------------------


def test_it_fans_out_one_item_per_element_in_order(context: BlockContext) -> None:
    items = ["a", "b", {"c": 1}, [4], None]

    result = run(ListIteratorBlock(), {"items": items}, context)

    assert [value for pin, value in result if pin == "item"] == items
    assert result == [
        pin_value
        for index, item in enumerate(items)
        for pin_value in (("item", item), ("key", index))
    ]


def test_it_iterates_a_json_list_and_a_dictionary(context: BlockContext) -> None:
    block = ListIteratorBlock()

    assert run(block, {"items": "[3, 4]"}, context) == [
        ("item", 3),
        ("key", 0),
        ("item", 4),
        ("key", 1),
    ]
    assert run(block, {"items": {"x": 1, "y": 2}}, context) == [
        ("item", 1),
        ("key", "x"),
        ("item", 2),
        ("key", "y"),
    ]
    assert run(block, {"items": []}, context) == []


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("[1, 2", "invalid JSON: "),
        ("42", "expected a list or a dictionary, got JSON number"),
        ("[NaN]", "invalid JSON: NaN is not a JSON value"),
    ],
)
def test_it_refuses_text_that_is_not_a_json_list(
    context: BlockContext, items: str, message: str
) -> None:
    result = run(ListIteratorBlock(), {"items": items}, context)

    assert len(result) == 1
    assert result[0][0] == "error"
    assert result[0][1].startswith(message)


def test_it_counts_items(context: BlockContext) -> None:
    block = CountItemsBlock()

    assert run(block, {"collection": [1, [2, 3]]}, context) == [("count", 2)]
    assert run(block, {"collection": {}}, context) == [("count", 0)]
    assert run(block, {"collection": "[1, 2]"}, context) == [("count", 6)]


# --- Converting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [
        ("text", "string", "text"),
        (12, "string", "12"),
        (1.5, "string", "1.5"),
        (True, "string", "true"),
        (None, "string", "null"),
        ({"ü": [1]}, "string", '{"ü": [1]}'),
        ("  12 ", "number", 12),
        ("-0.5", "number", -0.5),
        ("1e2", "number", 100.0),
        (True, "number", 1),
        (7.25, "number", 7.25),
        ("YES", "boolean", True),
        ("off", "boolean", False),
        ("", "boolean", False),
        (0, "boolean", False),
        (0.1, "boolean", True),
        (None, "boolean", False),
        ("[1, [2]]", "list", [1, [2]]),
        ({"a": 1}, "list", [["a", 1]]),
        ([1], "list", [1]),
        ('{"a": null}', "dictionary", {"a": None}),
        ([["a", 1], ["b", 2]], "dictionary", {"a": 1, "b": 2}),
    ],
)
def test_it_converts_types(context: BlockContext, value: Any, target: str, expected: Any) -> None:
    result = run(TypeConverterBlock(), {"value": value, "type": target}, context)

    assert result == [("value", expected)]
    assert type(result[0][1]) is type(expected)


@pytest.mark.parametrize(
    ("value", "target", "message"),
    [
        ("twelve", "number", "'twelve' is not a finite number"),
        ("inf", "number", "'inf' is not a finite number"),
        ([1], "number", "cannot convert list to a number"),
        ("maybe", "boolean", "'maybe' is not a yes/no value"),
        ({"a": 1}, "boolean", "cannot convert dictionary to a boolean"),
        ("a, b", "list", "invalid JSON: "),
        ('{"a": 1}', "list", "the text holds JSON dictionary, not a list"),
        (3, "list", "cannot convert number to a list"),
        ("[1]", "dictionary", "the text holds JSON list, not a dictionary"),
        ([["a", 1, 2]], "dictionary", "cannot convert list to a dictionary"),
    ],
)
def test_it_reports_impossible_conversions(
    context: BlockContext, value: Any, target: str, message: str
) -> None:
    result = run(TypeConverterBlock(), {"value": value, "type": target}, context)

    assert len(result) == 1
    assert result[0][0] == "error"
    assert result[0][1].startswith(message)


def test_it_refuses_an_unknown_target_type(context: BlockContext) -> None:
    with pytest.raises(BlockInputError):
        run(TypeConverterBlock(), {"value": 1, "type": "integer"}, context)


# --- JSON ---------------------------------------------------------------------------------------


def test_it_parses_json(context: BlockContext) -> None:
    result = run(JSONParseBlock(), {"json_string": ' {"a": [1, 2.5, "x", false]} '}, context)

    assert result == [("parsed", {"a": [1, 2.5, "x", False]})]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{'a': 1}", "invalid JSON: Expecting property name enclosed in double quotes"),
        ("", "invalid JSON: Expecting value: line 1 column 1"),
        ("[Infinity]", "invalid JSON: Infinity is not a JSON value"),
        ("[" * 100_000, "invalid JSON: nested too deeply"),
    ],
)
def test_it_reports_invalid_json(context: BlockContext, text: str, message: str) -> None:
    result = run(JSONParseBlock(), {"json_string": text}, context)

    assert len(result) == 1
    assert result[0][0] == "error"
    assert result[0][1].startswith(message)


def test_it_formats_json(context: BlockContext) -> None:
    block = JSONFormatBlock()

    assert run(block, {"value": {"a": [1]}}, context) == [
        ("json_string", '{\n  "a": [\n    1\n  ]\n}')
    ]
    assert run(block, {"value": ["é"], "indent": None}, context) == [("json_string", '["é"]')]


def test_it_reports_values_that_are_not_json(context: BlockContext) -> None:
    result = run(JSONFormatBlock(), {"value": [float("nan")]}, context)

    assert len(result) == 1
    assert result[0][0] == "error"
    assert result[0][1].startswith("cannot write as JSON: ")


# --- Persisted values ---------------------------------------------------------------------------

GRAPH_A = str(uuid.uuid4())
GRAPH_B = str(uuid.uuid4())


def persist(user: User, graph_id: str, key: str, value: Any, scope: str) -> list[tuple[str, Any]]:
    context = block_context_build(user=user, graph_id=graph_id)
    return run(PersistValueBlock(), {"key": key, "value": value, "scope": scope}, context)


def retrieve(user: User, graph_id: str, key: str, scope: str) -> Any:
    context = block_context_build(user=user, graph_id=graph_id)
    data = {"key": key, "scope": scope, "default": "nothing"}
    [(pin, value)] = run(RetrieveValueBlock(), data, context)
    assert pin == "value"
    return value


@pytest.mark.django_db
def test_it_reads_back_a_persisted_value(owner: User) -> None:
    assert persist(owner, GRAPH_A, "city", {"name": "Lisbon"}, "within_agent") == [
        ("value", {"name": "Lisbon"})
    ]

    assert retrieve(owner, GRAPH_A, "city", "within_agent") == {"name": "Lisbon"}


@pytest.mark.django_db
def test_it_keeps_within_agent_values_to_one_graph(owner: User) -> None:
    persist(owner, GRAPH_A, "city", "Lisbon", "within_agent")

    assert retrieve(owner, GRAPH_B, "city", "within_agent") == "nothing"
    assert retrieve(owner, GRAPH_A, "city", "across_agents") == "nothing"


@pytest.mark.django_db
def test_it_shares_across_agents_values_between_graphs(owner: User) -> None:
    persist(owner, GRAPH_A, "city", "Porto", "across_agents")

    assert retrieve(owner, GRAPH_B, "city", "across_agents") == "Porto"
    assert retrieve(owner, GRAPH_B, "city", "within_agent") == "nothing"


@pytest.mark.django_db
def test_it_keeps_values_to_their_user(owner: User, other_user: User) -> None:
    persist(owner, GRAPH_A, "city", "Lisbon", "within_agent")
    persist(owner, GRAPH_A, "team", "blue", "across_agents")

    assert retrieve(other_user, GRAPH_A, "city", "within_agent") == "nothing"
    assert retrieve(other_user, GRAPH_A, "team", "across_agents") == "nothing"


@pytest.mark.django_db
def test_it_replaces_a_persisted_value(owner: User) -> None:
    persist(owner, GRAPH_A, "count", 1, "within_agent")
    persist(owner, GRAPH_A, "count", 2, "within_agent")

    assert retrieve(owner, GRAPH_A, "count", "within_agent") == 2


@pytest.mark.django_db
def test_it_refuses_an_empty_key(owner: User) -> None:
    with pytest.raises(BlockInputError):
        persist(owner, GRAPH_A, "", 1, "within_agent")
