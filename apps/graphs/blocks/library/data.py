"""Lists, dictionaries and iteration."""

from collections.abc import Iterator
from typing import Any

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.library.conversion import ConversionError, kind_of, parse_json

# Aliases, because pins named `list` would shadow the builtin for later annotations in a class.
AnyList = list[Any]
AnyDict = dict[str, Any]


class CreateListBlock(Block):
    id = "f08c3d6a-2e5b-4a71-9c84-d3b6e1a7f529"
    name = "Create List"
    description = "Builds a list from the values linked to values_$_0, values_$_1, … in order."
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        values: AnyList = SchemaField([], description="The list's items, in order.")

    class Output(BlockOutput):
        list: AnyList = SchemaField(description="The list.")

    test_input = {"values": ["a", 2, {"c": 3}]}
    test_output = [("list", ["a", 2, {"c": 3}])]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "list", input_data.values


class CreateDictBlock(Block):
    id = "7b5e9a13-c4d2-4f68-8a0e-1f9c6b3d7e24"
    name = "Create Dictionary"
    description = "Builds a dictionary from the values linked to values_#_<key>."
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        values: AnyDict = SchemaField({}, description="The dictionary's entries.")

    class Output(BlockOutput):
        dictionary: AnyDict = SchemaField(description="The dictionary.")

    test_input = {"values": {"name": "Alice", "age": 30}}
    test_output = [("dictionary", {"name": "Alice", "age": 30})]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "dictionary", input_data.values


class AddToListBlock(Block):
    id = "c29a6f84-1d3e-4b57-a6c0-8e2f4d9b1a73"
    name = "Add to List"
    description = (
        "Adds `entries` and then `entry` to a copy of the list: at the end, or before the item "
        "at `position` (negative positions count from the end)."
    )
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        list: AnyList = SchemaField([], description="The list to add to; it is not changed.")
        entry: Any = SchemaField(None, description="One item to add; nothing when unset.")
        entries: AnyList = SchemaField([], description="Several items to add.")
        position: int | None = SchemaField(None, description="Where to insert; the end if unset.")

    class Output(BlockOutput):
        updated_list: AnyList = SchemaField(description="The list with the new items.")

    test_input = [
        {"list": [1, 2], "entry": 3},
        {"list": ["a", "d"], "entries": ["b", "c"], "position": 1},
        {"list": [], "entry": 0, "entries": [False]},
    ]
    test_output = [
        ("updated_list", [1, 2, 3]),
        ("updated_list", ["a", "b", "c", "d"]),
        ("updated_list", [False, 0]),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        added = list(input_data.entries)
        if input_data.entry is not None:
            added.append(input_data.entry)
        items, position = input_data.list, input_data.position
        if position is None:
            yield "updated_list", items + added
        else:
            yield "updated_list", items[:position] + added + items[position:]


class AddToDictBlock(Block):
    id = "5e8d1b27-9f4a-4c36-b2e7-0a6c3f8d9b15"
    name = "Add to Dictionary"
    description = (
        "Sets `key` to `value` and then every one of `entries` in a copy of the dictionary; "
        "existing keys are overwritten."
    )
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        dictionary: AnyDict = SchemaField({}, description="The dictionary; it is not changed.")
        key: str | None = SchemaField(None, description="The key to set; nothing when unset.")
        value: Any = SchemaField(None, description="The value for `key`.")
        entries: AnyDict = SchemaField({}, description="Several entries to set.")

    class Output(BlockOutput):
        updated_dictionary: AnyDict = SchemaField(description="The dictionary with the entries.")

    test_input = [
        {"dictionary": {"a": 1}, "key": "b", "value": 2},
        {"dictionary": {"a": 1}, "entries": {"a": 10, "c": 3}},
    ]
    test_output = [
        ("updated_dictionary", {"a": 1, "b": 2}),
        ("updated_dictionary", {"a": 10, "c": 3}),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        updated = dict(input_data.dictionary)
        if input_data.key is not None:
            updated[input_data.key] = input_data.value
        updated.update(input_data.entries)
        yield "updated_dictionary", updated


class FindInListBlock(Block):
    id = "a4c7e2f9-3b81-4d6e-9f05-2d8b7a1c4e63"
    name = "Find in List"
    description = (
        "Looks for a value in a list: yields its first `index` and the `found_item`, or the value "
        "on `not_found_value` when the list does not hold it."
    )
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        list: AnyList = SchemaField(description="The list to search.")
        value: Any = SchemaField(description="The value to look for.")

    class Output(BlockOutput):
        index: int = SchemaField(description="Where the value first occurs.")
        found_item: Any = SchemaField(description="The value, when found.")
        not_found_value: Any = SchemaField(description="The value, when not found.")

    test_input = [
        {"list": ["a", "b", "c", "b"], "value": "b"},
        {"list": ["a", "b"], "value": "z"},
    ]
    test_output = [("index", 1), ("found_item", "b"), ("not_found_value", "z")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            index = input_data.list.index(input_data.value)
        except ValueError:
            yield "not_found_value", input_data.value
            return
        yield "index", index
        yield "found_item", input_data.list[index]


def _list_index(key: str | int) -> int | None:
    if isinstance(key, int):
        return key
    try:
        return int(key)
    except ValueError:
        return None


class FindInDictBlock(Block):
    id = "2f6b8d4c-7a19-4e53-b8d2-6c0e9f3a5b71"
    name = "Find in Dictionary"
    description = (
        "Looks up `key` in a dictionary, or an index in a list (negative counts from the end). "
        "On a list of dictionaries a text key collects that key's value from each one. Yields "
        "the input on `missing` when there is nothing to find."
    )
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        input: AnyDict | AnyList = SchemaField(description="The dictionary or list to look in.")
        key: str | int = SchemaField(description="The key, or the list index.")

    class Output(BlockOutput):
        output: Any = SchemaField(description="The value found.")
        missing: Any = SchemaField(description="The input, when the key is not there.")

    test_input = [
        {"input": {"name": "Alice", "age": 30}, "key": "name"},
        {"input": ["x", "y", "z"], "key": -1},
        {"input": [{"id": 1}, {"id": 2}, {"other": 3}], "key": "id"},
        {"input": {"name": "Alice"}, "key": "email"},
    ]
    test_output = [
        ("output", "Alice"),
        ("output", "z"),
        ("output", [1, 2]),
        ("missing", {"name": "Alice"}),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        container, key = input_data.input, input_data.key
        if isinstance(container, dict):
            # JSON object keys are always text, so an integer key means its digits.
            if str(key) in container:
                yield "output", container[str(key)]
                return
        else:
            index = _list_index(key)
            if index is not None:
                if -len(container) <= index < len(container):
                    yield "output", container[index]
                    return
            else:
                found = [item[key] for item in container if isinstance(item, dict) and key in item]
                if found:
                    yield "output", found
                    return
        yield "missing", container


class ListIteratorBlock(Block):
    id = "d81e5c3a-6f27-4b9d-a1e4-7c3b0f8d2a56"
    name = "Iterate List"
    description = (
        "Yields each element of a list (or JSON text of one) on `item`, each followed by its "
        "index on `key`, so everything linked to `item` runs once per element, in order. A "
        "dictionary yields each value, followed by its key."
    )
    categories = frozenset({BlockCategory.DATA, BlockCategory.LOGIC})

    class Input(BlockSchema):
        items: AnyList | AnyDict | str = SchemaField(
            description="A list, a dictionary, or JSON text of either."
        )

    class Output(BlockOutput):
        item: Any = SchemaField(description="One element; yielded once per element.")
        key: int | str = SchemaField(description="The element's index (or key), after it.")

    test_input = [
        {"items": ["a", "b", "c"]},
        {"items": '[10, {"x": 1}]'},
        {"items": {"first": 1, "second": 2}},
        {"items": "[1, 2"},
    ]
    test_output = [
        ("item", "a"),
        ("key", 0),
        ("item", "b"),
        ("key", 1),
        ("item", "c"),
        ("key", 2),
        ("item", 10),
        ("key", 0),
        ("item", {"x": 1}),
        ("key", 1),
        ("item", 1),
        ("key", "first"),
        ("item", 2),
        ("key", "second"),
        ("error", lambda message: message.startswith("invalid JSON")),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        items = input_data.items
        if isinstance(items, str):
            try:
                items = parse_json(items)
            except ConversionError as exc:
                yield "error", str(exc)
                return
        if isinstance(items, dict):
            for key, value in items.items():
                yield "item", value
                yield "key", key
        elif isinstance(items, list):
            for index, value in enumerate(items):
                yield "item", value
                yield "key", index
        else:
            yield "error", f"expected a list or a dictionary, got JSON {kind_of(items)}"


class CountItemsBlock(Block):
    id = "6a3f0e8b-4c92-4d15-87b6-9e1d5c2a8f37"
    name = "Count Items"
    description = (
        "Counts the items of a list, the entries of a dictionary or the characters of a text."
    )
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        collection: AnyList | AnyDict | str = SchemaField(description="What to count.")

    class Output(BlockOutput):
        count: int = SchemaField(description="How many items it has.")

    test_input = [
        {"collection": [1, 2, 3]},
        {"collection": {"a": 1}},
        {"collection": "hello"},
    ]
    test_output = [("count", 3), ("count", 1), ("count", 5)]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "count", len(input_data.collection)
