"""Text blocks: templates, regular expressions, joining, splitting and replacing."""

import json
from collections.abc import Iterator
from typing import Any

import regex

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.templating import render_template


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


# Patterns are user input: the `regex` engine (re's syntax) stops a match that runs longer than
# this (catastrophic backtracking), which `re` cannot.
REGEX_TIMEOUT_SECONDS = 2.0
REGEX_TIMED_OUT = (
    f"the regular expression took longer than {REGEX_TIMEOUT_SECONDS:g} s on this text"
)


def _compile(pattern: str, *, case_sensitive: bool, dot_all: bool) -> regex.Pattern:
    flags = (0 if case_sensitive else regex.IGNORECASE) | (regex.DOTALL if dot_all else 0)
    return regex.compile(pattern, flags)


class FillTemplateBlock(Block):
    id = "0d7a2f4e-5c1b-4e86-9f3a-7b2d8c61e4a9"
    name = "Fill Text Template"
    description = (
        "Renders a Jinja2 template with the given values, e.g. 'Hello {{ name }}!' with "
        "values_#_name. Runs sandboxed; the output may be at most 100,000 characters."
    )
    categories = frozenset({BlockCategory.TEXT})

    class Input(BlockSchema):
        format: str = SchemaField(
            description="A Jinja2 template; each value is available by its key.",
            placeholder="Hello {{ name }}!",
        )
        values: dict[str, Any] = SchemaField(
            {}, description="The values the template refers to, by key."
        )

    class Output(BlockOutput):
        output: str = SchemaField(description="The rendered text.")

    test_input = [
        {"format": "Hello {{ name }}!", "values": {"name": "Alice"}},
        {
            "format": "{% for item in items %}{{ item }}{% if not loop.last %}, {% endif %}"
            "{% endfor %}",
            "values": {"items": ["apples", "pears"]},
        },
        {"format": "{{ ''.__class__.__mro__ }}"},
    ]
    test_output = [
        ("output", "Hello Alice!"),
        ("output", "apples, pears"),
        ("error", lambda message: "unsafe" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            text = render_template(input_data.format, input_data.values)
        except Exception as exc:  # the template is user code: any fault in it is the author's
            yield "error", f"template failed: {exc}"
            return
        yield "output", text


class MatchTextPatternBlock(Block):
    id = "8b3e61c9-27d4-4f0a-b5e8-1c9a4d7f2036"
    name = "Match Text Pattern"
    description = (
        "Tests the text against a regular expression and forwards `data` on `positive` when it "
        "matches anywhere in the text, on `negative` otherwise."
    )
    categories = frozenset({BlockCategory.TEXT, BlockCategory.LOGIC})

    class Input(BlockSchema):
        text: Any = SchemaField(description="The text to test; other values are tested as JSON.")
        match: str = SchemaField(description="A regular expression (Python syntax).")
        data: Any = SchemaField(None, description="What to forward; the text when unset.")
        case_sensitive: bool = SchemaField(True, description="Tell upper from lower case.")
        dot_all: bool = SchemaField(True, description="Let `.` match line breaks too.")

    class Output(BlockOutput):
        positive: Any = SchemaField(description="`data` when the pattern matched.")
        negative: Any = SchemaField(description="`data` when it did not.")

    test_input = [
        {"text": "Order #1234 shipped", "match": r"#\d+", "data": {"order": 1234}},
        {"text": "no number here", "match": r"#\d+"},
        {"text": "HELLO", "match": "hello", "case_sensitive": False},
        {"text": "x", "match": "(unclosed"},
    ]
    test_output = [
        ("positive", {"order": 1234}),
        ("negative", "no number here"),
        ("positive", "HELLO"),
        ("error", lambda message: "invalid regular expression" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            pattern = _compile(
                input_data.match,
                case_sensitive=input_data.case_sensitive,
                dot_all=input_data.dot_all,
            )
        except regex.error as exc:
            yield "error", f"invalid regular expression: {exc}"
            return
        data = input_data.text if input_data.data is None else input_data.data
        try:
            found = pattern.search(_as_text(input_data.text), timeout=REGEX_TIMEOUT_SECONDS)
        except TimeoutError:
            yield "error", REGEX_TIMED_OUT
            return
        yield ("positive" if found else "negative"), data


class ExtractTextBlock(Block):
    id = "e4c09a7b-6d35-4b12-8a4f-3f6e2b9d1c58"
    name = "Extract Text"
    description = (
        "Extracts a group of a regular expression's match from the text: the first match, or "
        "every match one after the other with find_all. The text goes to `negative` when "
        "nothing matches."
    )
    categories = frozenset({BlockCategory.TEXT})

    class Input(BlockSchema):
        text: Any = SchemaField(
            description="The text to search; other values are searched as JSON."
        )
        pattern: str = SchemaField(description="A regular expression (Python syntax).")
        group: int = SchemaField(
            0, ge=0, description="Which capture group to extract; 0 is the whole match."
        )
        case_sensitive: bool = SchemaField(True, description="Tell upper from lower case.")
        dot_all: bool = SchemaField(True, description="Let `.` match line breaks too.")
        find_all: bool = SchemaField(False, description="Yield every match, not just the first.")

    class Output(BlockOutput):
        positive: str = SchemaField(
            description="The extracted text; once per match with find_all. Empty when the group "
            "took no part in the match."
        )
        negative: Any = SchemaField(description="The text, when nothing matched.")

    test_input = [
        {"text": "Total: 42 EUR", "pattern": r"(\d+) (\w+)", "group": 2},
        {"text": "a1 b2 c3", "pattern": r"[a-z](\d)", "group": 1, "find_all": True},
        {"text": "nothing to see", "pattern": r"\d+"},
        {"text": "abc", "pattern": "(a)", "group": 2},
    ]
    test_output = [
        ("positive", "EUR"),
        ("positive", "1"),
        ("positive", "2"),
        ("positive", "3"),
        ("negative", "nothing to see"),
        ("error", lambda message: "not group 2" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            pattern = _compile(
                input_data.pattern,
                case_sensitive=input_data.case_sensitive,
                dot_all=input_data.dot_all,
            )
        except regex.error as exc:
            yield "error", f"invalid regular expression: {exc}"
            return
        if input_data.group > pattern.groups:
            groups = pattern.groups
            yield (
                "error",
                f"the pattern has {groups} capture group(s), not group {input_data.group}",
            )
            return
        matched = False
        try:
            for match in pattern.finditer(_as_text(input_data.text), timeout=REGEX_TIMEOUT_SECONDS):
                matched = True
                yield "positive", match.group(input_data.group) or ""
                if not input_data.find_all:
                    break
        except TimeoutError:
            yield "error", REGEX_TIMED_OUT
            return
        if not matched:
            yield "negative", input_data.text


class CombineTextsBlock(Block):
    id = "5a9f3c2d-8e71-4b6a-9d04-2c7e1f8b3a65"
    name = "Combine Texts"
    description = "Joins texts into one, with the delimiter between each two."
    categories = frozenset({BlockCategory.TEXT})

    class Input(BlockSchema):
        input: list[str] = SchemaField(description="The texts to join, in order.")
        delimiter: str = SchemaField("", description="Put between each two texts.")

    class Output(BlockOutput):
        output: str = SchemaField(description="The joined text.")

    test_input = [
        {"input": ["Hello", "World"], "delimiter": " "},
        {"input": ["a", "b", "c"]},
    ]
    test_output = [("output", "Hello World"), ("output", "abc")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "output", input_data.delimiter.join(input_data.input)


class SplitTextBlock(Block):
    id = "b17d4e8a-3f62-4c95-a0b3-6e8d2f9c4a17"
    name = "Split Text"
    description = "Splits a text into a list of texts at every occurrence of the delimiter."
    categories = frozenset({BlockCategory.TEXT})

    class Input(BlockSchema):
        text: str = SchemaField(description="The text to split.")
        delimiter: str = SchemaField(",", min_length=1, description="Where to split.")
        strip: bool = SchemaField(True, description="Trim whitespace around each piece.")

    class Output(BlockOutput):
        texts_list: list[str] = SchemaField(description="The pieces; empty for an empty text.")

    test_input = [
        {"text": "red, green ,blue"},
        {"text": "a|b", "delimiter": "|", "strip": False},
        {"text": ""},
    ]
    test_output = [
        ("texts_list", ["red", "green", "blue"]),
        ("texts_list", ["a", "b"]),
        ("texts_list", []),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if not input_data.text:
            yield "texts_list", []
            return
        pieces = input_data.text.split(input_data.delimiter)
        yield "texts_list", [piece.strip() for piece in pieces] if input_data.strip else pieces


class ReplaceTextBlock(Block):
    id = "3c6e8f1a-9b24-4d57-8e0c-5a1f7d3b9e42"
    name = "Replace Text"
    description = "Replaces every occurrence of `old` in the text with `new`."
    categories = frozenset({BlockCategory.TEXT})

    class Input(BlockSchema):
        text: str = SchemaField(description="The text to change.")
        old: str = SchemaField(min_length=1, description="What to replace (plain text).")
        new: str = SchemaField("", description="What to put in its place.")

    class Output(BlockOutput):
        output: str = SchemaField(description="The changed text.")

    test_input = {"text": "Hello, World!", "old": "World", "new": "Django"}
    test_output = [("output", "Hello, Django!")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "output", input_data.text.replace(input_data.old, input_data.new)
