import time
from typing import Any

import pytest

from apps.graphs.blocks.base import Block, BlockInputError
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.library.text import (
    REGEX_TIMED_OUT,
    REGEX_TIMEOUT_SECONDS,
    CombineTextsBlock,
    ExtractTextBlock,
    FillTemplateBlock,
    MatchTextPatternBlock,
    ReplaceTextBlock,
    SplitTextBlock,
)
from apps.graphs.blocks.templating import MAX_TEMPLATE_OUTPUT_CHARS
from apps.graphs.kv import DatabaseKeyValueStore
from apps.graphs.runtime import safe_http_client


@pytest.fixture
def context() -> BlockContext:
    """Text blocks use nothing from the context; the real store is there but never touched."""
    return BlockContext(
        user_id="alice",
        kv=DatabaseKeyValueStore(user_id="alice", graph_id=None),
        http=safe_http_client(),
    )


def run(block: Block, data: dict[str, Any], context: BlockContext) -> list[tuple[str, Any]]:
    return list(block.execute(data, context))


def fill(template: str, context: BlockContext, **values: Any) -> list[tuple[str, Any]]:
    return run(FillTemplateBlock(), {"format": template, "values": values}, context)


# --- Fill Text Template ---------------------------------------------------------------------


def test_it_fills_a_template_with_values(context: BlockContext) -> None:
    result = fill(
        "{{ greeting|upper }}, {{ user.name }}! {% for n in scores %}{{ n * 2 }} {% endfor %}",
        context,
        greeting="hi",
        user={"name": "Alice"},
        scores=[1, 2],
    )

    assert result == [("output", "HI, Alice! 2 4 ")]


def test_it_renders_an_unset_value_as_empty_text(context: BlockContext) -> None:
    assert fill("[{{ missing }}]", context) == [("output", "[]")]


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ text.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.environ }}",
        "{{ (text|attr('__class__')).__subclasses__() }}",
        "{{ lipsum.__globals__['os'] }}",
    ],
)
def test_it_refuses_unsafe_attribute_access(context: BlockContext, template: str) -> None:
    result = fill(template, context, text="x")

    assert [pin for pin, _ in result] == ["error"]
    assert "unsafe" in result[0][1]


def test_it_does_not_let_a_template_change_its_inputs(context: BlockContext) -> None:
    items = [1, 2, 3]

    result = fill("{{ items.append(4) }}{{ items|length }}", context, items=items)

    assert [pin for pin, _ in result] == ["error"]
    assert items == [1, 2, 3]


def test_it_allows_output_up_to_the_limit(context: BlockContext) -> None:
    result = fill("{{ 'x' * size }}", context, size=MAX_TEMPLATE_OUTPUT_CHARS)

    assert result == [("output", "x" * MAX_TEMPLATE_OUTPUT_CHARS)]


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'x' * (limit + 1) }}",
        "{% for i in range(limit // 2 + 1) %}ab{% endfor %}",
    ],
)
def test_it_fails_when_the_output_passes_the_limit(context: BlockContext, template: str) -> None:
    result = fill(template, context, limit=MAX_TEMPLATE_OUTPUT_CHARS)

    assert result == [("error", f"template failed: the output exceeds {100_000} characters")]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 'a' * 10000000000 }}", "repetition exceeds 1000000 items"),
        ("{{ [0] * 10000000000 }}", "repetition exceeds 1000000 items"),
        ("{{ 7 ** 100000000 }}", "the power is too large to compute"),
        (
            "{% set ns = namespace(s='a') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
            "{% endfor %}{{ ns.s|length }}",
            "a value in the template exceeds 1000000 items",
        ),
        (
            "{% set ns = namespace(s='a') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
            "{% endfor %}{{ ns.s|length }}",
            "a value in the template exceeds 1000000 items",
        ),
    ],
)
def test_it_refuses_values_that_grow_without_bound(
    context: BlockContext, template: str, message: str
) -> None:
    started = time.monotonic()

    result = fill(template, context)

    assert result == [("error", f"template failed: {message}")]
    assert time.monotonic() - started < 5


def test_it_reports_a_broken_template(context: BlockContext) -> None:
    result = fill("{% if %}", context)

    assert len(result) == 1
    assert result[0][0] == "error"
    assert result[0][1].startswith("template failed: ")


# --- Match Text Pattern -----------------------------------------------------------------------


def test_it_forwards_data_on_positive_when_the_pattern_matches(context: BlockContext) -> None:
    data = {"order": 7}

    result = run(
        MatchTextPatternBlock(), {"text": "order #7", "match": r"#\d", "data": data}, context
    )

    assert result == [("positive", data)]


def test_it_forwards_the_text_on_negative_when_it_does_not(context: BlockContext) -> None:
    result = run(MatchTextPatternBlock(), {"text": "order seven", "match": r"#\d"}, context)

    assert result == [("negative", "order seven")]


def test_it_honours_case_and_dot_all_flags(context: BlockContext) -> None:
    block = MatchTextPatternBlock()

    assert run(block, {"text": "ABC", "match": "abc"}, context)[0][0] == "negative"
    assert run(block, {"text": "ABC", "match": "abc", "case_sensitive": False}, context)[0][0] == (
        "positive"
    )
    assert run(block, {"text": "a\nb", "match": "a.b"}, context)[0][0] == "positive"
    assert run(block, {"text": "a\nb", "match": "a.b", "dot_all": False}, context)[0][0] == (
        "negative"
    )


def test_it_matches_structured_values_as_json(context: BlockContext) -> None:
    text = {"status": "done"}

    result = run(MatchTextPatternBlock(), {"text": text, "match": '"status": "done"'}, context)

    assert result == [("positive", text)]


@pytest.mark.parametrize("block", [MatchTextPatternBlock(), ExtractTextBlock()])
def test_it_reports_an_invalid_regular_expression(context: BlockContext, block: Block) -> None:
    pin = "match" if isinstance(block, MatchTextPatternBlock) else "pattern"

    result = run(block, {"text": "abc", pin: "(a"}, context)

    assert result == [("error", "invalid regular expression: missing ) at position 2")]


@pytest.mark.parametrize("block", [MatchTextPatternBlock(), ExtractTextBlock()])
def test_it_stops_a_pattern_that_backtracks_without_end(
    context: BlockContext, block: Block
) -> None:
    pin = "match" if isinstance(block, MatchTextPatternBlock) else "pattern"
    started = time.monotonic()

    # Catastrophic backtracking: with `re` this would run for longer than the universe has.
    result = run(block, {"text": "a" * 60 + "!", pin: r"^(a|aa)+$"}, context)

    assert result == [("error", REGEX_TIMED_OUT)]
    assert time.monotonic() - started < REGEX_TIMEOUT_SECONDS + 2


# --- Extract Text -----------------------------------------------------------------------------


def test_it_extracts_the_first_match_only_by_default(context: BlockContext) -> None:
    result = run(
        ExtractTextBlock(), {"text": "a1 b2 c3", "pattern": r"\w(\d)", "group": 1}, context
    )

    assert result == [("positive", "1")]


def test_it_fans_out_every_match_with_find_all(context: BlockContext) -> None:
    data = {"text": "a1 b2 c3", "pattern": r"(\w)\d", "group": 1, "find_all": True}

    result = run(ExtractTextBlock(), data, context)

    assert result == [("positive", "a"), ("positive", "b"), ("positive", "c")]


def test_it_yields_the_text_on_negative_when_nothing_matches(context: BlockContext) -> None:
    result = run(
        ExtractTextBlock(), {"text": "no digits", "pattern": r"\d+", "find_all": True}, context
    )

    assert result == [("negative", "no digits")]


def test_it_yields_empty_text_for_a_group_that_took_no_part(context: BlockContext) -> None:
    result = run(ExtractTextBlock(), {"text": "b", "pattern": "(a)|(b)", "group": 1}, context)

    assert result == [("positive", "")]


def test_it_refuses_a_group_the_pattern_does_not_have(context: BlockContext) -> None:
    result = run(ExtractTextBlock(), {"text": "abc", "pattern": "(a)(b)", "group": 3}, context)

    assert result == [("error", "the pattern has 2 capture group(s), not group 3")]


# --- Combine, split, replace --------------------------------------------------------------------


def test_it_combines_texts_with_the_delimiter(context: BlockContext) -> None:
    result = run(CombineTextsBlock(), {"input": ["a", "b", "c"], "delimiter": ", "}, context)

    assert result == [("output", "a, b, c")]


def test_it_splits_text_and_strips_the_pieces(context: BlockContext) -> None:
    block = SplitTextBlock()

    assert run(block, {"text": " a , b ,c"}, context) == [("texts_list", ["a", "b", "c"])]
    assert run(block, {"text": " a ; b", "delimiter": ";", "strip": False}, context) == [
        ("texts_list", [" a ", " b"])
    ]
    assert run(block, {"text": ""}, context) == [("texts_list", [])]


def test_it_replaces_every_occurrence(context: BlockContext) -> None:
    result = run(ReplaceTextBlock(), {"text": "a-b-c", "old": "-", "new": "+"}, context)

    assert result == [("output", "a+b+c")]


@pytest.mark.parametrize(
    ("block", "data"),
    [
        (SplitTextBlock(), {"text": "abc", "delimiter": ""}),
        (ReplaceTextBlock(), {"text": "abc", "old": ""}),
    ],
)
def test_it_refuses_an_empty_delimiter_or_search_text(
    context: BlockContext, block: Block, data: dict[str, Any]
) -> None:
    with pytest.raises(BlockInputError):
        run(block, data, context)
