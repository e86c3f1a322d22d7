"""SPEC §5: every rule, with the node_errors it reports; errors are collected, not first-only."""

import pytest
from rest_framework.test import APIClient

from apps.graphs.blocks.library.ai import AITextGeneratorBlock
from apps.graphs.blocks.library.text import CombineTextsBlock, SplitTextBlock
from apps.graphs.blocks.library.timing import DelayBlock
from apps.graphs.compile import graph_spec_from_payload
from apps.graphs.models import Graph
from apps.graphs.validation import GRAPH_KEY, graph_errors_for_run, graph_errors_on_save
from tests.graphs.graphs import INPUT, NOTE, OUTPUT, PRINT, STORE, echo_graph, link, node

TEXT_INPUT = "6f1b8b2a-4f3e-4a57-9a7d-2f0c9d3f5e11"


def _save_errors(nodes: list, links: list) -> dict:
    return graph_errors_on_save(graph_spec_from_payload(nodes, links))


def _run_errors(nodes: list, links: list, inputs: dict) -> dict:
    return graph_errors_for_run(graph_spec_from_payload(nodes, links), inputs)


def test_a_valid_graph_has_no_errors() -> None:
    graph = echo_graph()
    assert _save_errors(graph["nodes"], graph["links"]) == {}
    assert _run_errors(graph["nodes"], graph["links"], {"topic": "otters"}) == {}


def test_a_graph_needs_a_node() -> None:
    assert _save_errors([], []) == {GRAPH_KEY: {"nodes": "a graph needs at least one node"}}


def test_unknown_blocks_are_reported_per_node() -> None:
    errors = _save_errors([node("a", "no-such-block"), node("b", "also-missing")], [])
    assert set(errors) == {"a", "b"}
    assert "unknown block" in errors["a"]["block_id"]


def test_links_must_join_existing_nodes() -> None:
    errors = _save_errors([node("a", PRINT)], [link("a", "output", "ghost", "text")])
    assert errors == {GRAPH_KEY: {"links.0": "link refers to unknown node 'ghost'"}}


def test_link_pins_must_exist_on_both_blocks() -> None:
    errors = _save_errors([node("a", PRINT), node("b", PRINT)], [link("a", "nope", "b", "nada")])
    assert "no output pin named 'nope'" in errors["a"]["nope"]
    assert "no input pin named 'nada'" in errors["b"]["nada"]


def test_dynamic_pins_need_a_container_pin() -> None:
    # Print's `text` accepts anything, so picking parts of it is allowed; Agent Output's `name`
    # is a string and cannot take dict entries.
    errors = _save_errors(
        [node("a", PRINT), node("b", OUTPUT, name="x")],
        [link("a", "output_#_field", "b", "name_#_key")],
    )
    assert errors == {"b": {"name_#_key": "pin 'name' of Agent Output is not a dictionary"}}


def test_pin_types_must_be_compatible() -> None:
    errors = _save_errors(
        [node("a", TEXT_INPUT), node("s", STORE), node("b", OUTPUT, name="out")],
        [link("a", "text", "b", "name"), link("s", "output", "b", "value")],
    )
    assert errors == {}
    # A boolean/list-typed source into a string pin is still allowed for scalars; but a
    # text output into a pin typed as a number is not: build one from the schemas.
    from apps.graphs import validation

    assert validation._compatible({"string"}, {"number"}) is False
    assert validation._compatible({"integer"}, {"number"}) is True
    assert validation._compatible({"array"}, {"string"}) is False


def test_input_defaults_must_name_existing_pins() -> None:
    errors = _save_errors([node("a", PRINT, text="hi", colour="red")], [])
    assert errors == {"a": {"colour": "Print has no input pin named 'colour'"}}


def test_cycles_are_refused() -> None:
    errors = _save_errors(
        [node("a", PRINT), node("b", PRINT), node("c", PRINT, text="x")],
        [
            link("a", "output", "b", "text"),
            link("b", "output", "a", "text"),
            link("c", "output", "a", "text"),
        ],
    )
    assert set(errors) == {"a", "b"}
    assert errors["a"]["links"] == "this node is part of a cycle"


def test_duplicate_node_ids_are_refused() -> None:
    errors = _save_errors([node("a", PRINT), node("a", PRINT)], [])
    assert errors == {"a": {"id": "node id 'a' is used twice"}}


def test_errors_are_collected_not_first_only() -> None:
    errors = _save_errors(
        [node("a", "missing"), node("b", PRINT, bogus=1), node("c", PRINT)],
        [link("c", "nope", "b", "text")],
    )
    assert set(errors) == {"a", "b", "c"}


def test_required_inputs_need_a_default_a_link_or_a_run_input() -> None:
    errors = _run_errors([node("p", PRINT)], [], {})
    assert errors == {"p": {"text": "required input 'text' has no default and no link"}}
    assert _run_errors([node("p", PRINT, text="hello")], [], {}) == {}


def test_a_linked_pin_counts_as_provided() -> None:
    nodes = [node("s", STORE, input="go"), node("p", PRINT)]
    assert _run_errors(nodes, [link("s", "output", "p", "text")], {}) == {}


def test_input_nodes_need_their_run_input_or_a_default() -> None:
    graph = echo_graph()
    errors = _run_errors(graph["nodes"], graph["links"], {})
    assert errors == {"in": {"value": "the run input 'topic' is required"}}
    with_default = [node("in", INPUT, name="topic", default="otters"), *graph["nodes"][1:]]
    assert _run_errors(with_default, graph["links"], {}) == {}


@pytest.mark.parametrize("name", [None, ""], ids=["missing", "empty"])
def test_an_input_node_without_a_usable_name_is_reported_and_left_out_of_the_schema(
    owner_client: APIClient, name: object
) -> None:
    unnamed = node("in", INPUT) if name is None else node("in", INPUT, name=name)
    nodes = [unnamed, node("t", TEXT_INPUT), node("o", OUTPUT, name="out")]
    links = [link("in", "result", "o", "value")]
    message = "required input 'name' has no default and no link"
    expected = message if name is None else "the input's name must be non-empty text"
    assert _run_errors(nodes, links, {"text": "x"}) == {"in": {"name": expected}}

    # Saved as a draft, its run schema has the inputs that can be given: Text Input's default
    # name. (It once put the block's missing default in the schema and answered 500.)
    graph = {"name": "G", "nodes": nodes, "links": links}
    response = owner_client.post("/api/graphs", graph, format="json")
    assert response.status_code == 201, response.content
    assert list(response.json()["input_schema"]["properties"]) == ["text"]


def test_run_inputs_are_checked_against_the_input_types() -> None:
    nodes = [node("t", TEXT_INPUT, name="text"), node("o", OUTPUT, name="out")]
    links = [link("t", "text", "o", "value")]
    assert _run_errors(nodes, links, {"text": "fine"}) == {}
    errors = _run_errors(nodes, links, {"text": {"not": "text"}})
    assert "run input 'text'" in errors["t"]["value"]


def test_unknown_run_inputs_are_reported() -> None:
    graph = echo_graph()
    errors = _run_errors(graph["nodes"], graph["links"], {"topic": "x", "topik": "y"})
    assert errors == {GRAPH_KEY: {"inputs.topik": "no Input node is named 'topik'"}}


def test_notes_are_neither_entry_points_nor_required() -> None:
    graph = echo_graph()
    nodes = [*graph["nodes"], node("n", NOTE)]
    assert _run_errors(nodes, graph["links"], {"topic": "x"}) == {}


def test_nodes_fed_only_by_a_note_are_unreachable() -> None:
    nodes = [node("n", NOTE), node("q", PRINT), node("o", OUTPUT, name="out")]
    links = [link("n", "output", "q", "text"), link("q", "output", "o", "value")]
    errors = _run_errors(nodes, links, {})
    assert errors == {
        GRAPH_KEY: {"nodes": "no node can start: every node waits for a link"},
        "q": {"links": "unreachable: no path from a node that can start"},
        "o": {"links": "unreachable: no path from a node that can start"},
    }
    runnable = [*nodes, node("p", PRINT, text="hi"), node("o2", OUTPUT, name="other")]
    errors = _run_errors(runnable, [*links, link("p", "output", "o2", "value")], {})
    assert errors == {
        "q": {"links": "unreachable: no path from a node that can start"},
        "o": {"links": "unreachable: no path from a node that can start"},
    }


@pytest.mark.django_db
def test_the_api_answers_with_node_errors_and_saves_nothing(owner_client: APIClient) -> None:
    payload = {"name": "Broken", "nodes": [node("a", "missing")], "links": []}
    response = owner_client.post("/api/graphs", payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["error_code"] == "GRAPH_VALIDATION_ERROR"
    assert error["details"]["node_errors"] == {"a": {"block_id": "unknown block 'missing'"}}
    assert not Graph.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        {"nodes": [], "links": []},
        {"name": "x" * 101, "nodes": [node("a", PRINT)]},
        {"name": "ok", "nodes": [{"id": "a"}]},
        {"name": "ok", "nodes": "not a list"},
    ],
)
def test_malformed_payloads_are_a_400(owner_client: APIClient, payload: dict) -> None:
    response = owner_client.post("/api/graphs", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["error_code"] == "VALIDATION_ERROR"


def test_it_refuses_a_non_text_input_name_at_save() -> None:
    errors = _save_errors([node("in", INPUT, name=5)], [])
    assert errors == {"in": {"name": "Input should be a valid string"}}


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (99999, "Input should be less than or equal to 3600"),
        (-5, "Input should be greater than or equal to 0"),
        (2**64, "integers must lie between -9223372036854775808 and 9223372036854775807"),
    ],
)
def test_it_refuses_an_out_of_range_delay_at_save_naming_the_field(
    seconds: int, message: str
) -> None:
    errors = _save_errors([node("wait", DelayBlock.id, seconds=seconds)], [])
    assert errors == {"wait": {"seconds": message}}


def test_it_judges_a_fixed_value_only_where_no_link_overrides_it() -> None:
    nodes = [node("in", INPUT, name="s"), node("wait", DelayBlock.id, seconds="soon")]
    assert "seconds" in _save_errors(nodes, [])["wait"]
    assert _save_errors(nodes, [link("in", "result", "wait", "seconds")]) == {}


@pytest.mark.parametrize("suffix", ["³", "\u0661", "x", " 1", "99999999999999999999"])
def test_it_refuses_a_list_pin_position_that_is_not_ascii_digits(suffix: str) -> None:
    nodes = [node("t", TEXT_INPUT), node("join", CombineTextsBlock.id)]
    errors = _save_errors(nodes, [link("t", "text", "join", f"input_$_{suffix}")])
    assert "a list position is a number of ASCII digits" in errors["join"][f"input_$_{suffix}"]
    assert _save_errors(nodes, [link("t", "text", "join", "input_$_1")]) == {}


def test_it_refuses_a_list_index_on_a_source_that_is_not_ascii_digits() -> None:
    nodes = [node("split", SplitTextBlock.id, text="a b"), node("p", PRINT)]
    errors = _save_errors(nodes, [link("split", "texts_list_$_³", "p", "text")])
    assert "a list index is a number of ASCII digits" in errors["split"]["texts_list_$_³"]
    assert _save_errors(nodes, [link("split", "texts_list_$_-1", "p", "text")]) == {}


def test_it_answers_400_for_a_saved_graph_with_a_unicode_digit_pin(
    owner_client: APIClient,
) -> None:
    nodes = [node("t", TEXT_INPUT), node("join", CombineTextsBlock.id)]
    graph = {"name": "G", "nodes": nodes, "links": [link("t", "text", "join", "input_$_³")]}
    response = owner_client.post("/api/graphs", graph, format="json")
    assert response.status_code == 400, response.content
    assert "input_$_³" in response.json()["error"]["details"]["node_errors"]["join"]


def _with_metadata(block_id: str, **metadata: object) -> dict:
    return {**node("n", block_id), "metadata": metadata}


@pytest.mark.parametrize("attempts", [1, 5, 10])
def test_a_node_may_set_its_attempts_when_its_block_retries(attempts: int) -> None:
    ai = _with_metadata(AITextGeneratorBlock.id, max_attempts=attempts)
    assert _save_errors([ai], []) == {}


@pytest.mark.parametrize("attempts", [0, 11, -1, 2.5, "3", True, None])
def test_attempts_outside_1_to_10_are_refused(attempts: object) -> None:
    errors = _save_errors([_with_metadata(AITextGeneratorBlock.id, max_attempts=attempts)], [])
    if attempts is None:
        assert errors == {}  # null: the block's default
    else:
        assert "from 1 to 10" in errors["n"]["max_attempts"]


def test_attempts_on_a_block_that_never_retries_are_refused() -> None:
    errors = _save_errors([_with_metadata(STORE, max_attempts=3)], [])
    assert "runs once" in errors["n"]["max_attempts"]


@pytest.mark.parametrize(
    ("timeout", "valid"),
    [(0.5, True), (86_400, True), (0, False), (-3, False), (86_401, False), ("60", False)],
)
def test_a_node_time_limit_is_checked(timeout: object, valid: bool) -> None:
    errors = _save_errors([_with_metadata(STORE, timeout_seconds=timeout)], [])
    assert (errors == {}) is valid
    if not valid:
        assert "seconds" in errors["n"]["timeout_seconds"]


def test_bad_node_settings_answer_400_with_node_errors(owner_client: APIClient) -> None:
    graph = {"name": "Bad", "nodes": [_with_metadata(STORE, timeout_seconds="soon")], "links": []}
    response = owner_client.post("/api/graphs", graph, format="json")
    assert response.status_code == 400
    assert "timeout_seconds" in response.json()["error"]["details"]["node_errors"]["n"]
