"""Tool links (SPEC §15): an AI Agent's `tools` pin to the `tool` end of a node it may call.
Validation accepts them and refuses what cannot work."""

from apps.graphs.blocks.library.ai_agent import AIAgentBlock
from apps.graphs.blocks.library.maths import CalculatorBlock
from apps.graphs.compile import graph_spec_from_payload
from apps.graphs.validation import graph_errors_for_run, graph_errors_on_save
from tests.graphs.graphs import INPUT, OUTPUT, PRINT, WEB_REQUEST, link, node

AGENT = AIAgentBlock.id


def _nodes(*extra: dict) -> list[dict]:
    return [node("in", INPUT, name="q"), node("agent", AGENT), *extra]


def _errors(nodes: list, links: list, *, run: bool = False) -> dict:
    spec = graph_spec_from_payload(nodes, [link("in", "result", "agent", "prompt"), *links])
    return graph_errors_for_run(spec, {"q": "hi"}) if run else graph_errors_on_save(spec)


def test_it_accepts_a_tool_whose_required_inputs_the_model_fills() -> None:
    nodes = _nodes(node("web", WEB_REQUEST), node("calc", CalculatorBlock.id))
    links = [link("agent", "tools", "web", "tool"), link("agent", "tools", "calc", "tool")]
    assert _errors(nodes, links) == {}
    assert _errors(nodes, links, run=True) == {}


def test_it_accepts_a_tool_with_an_input_fixed_by_a_link() -> None:
    nodes = _nodes(node("web", WEB_REQUEST))
    links = [link("agent", "tools", "web", "tool"), link("in", "result", "web", "url")]
    assert _errors(nodes, links, run=True) == {}


def test_it_refuses_a_tools_link_onto_a_pin() -> None:
    errors = _errors(_nodes(node("p", PRINT)), [link("agent", "tools", "p", "text")])
    assert errors == {"p": {"text": "a `tools` link ends on the node's `tool` end, not on a pin"}}


def test_it_refuses_a_tool_link_from_a_block_that_calls_no_tools() -> None:
    errors = _errors(
        _nodes(node("calc", CalculatorBlock.id), node("p", PRINT)),
        [link("calc", "tools", "p", "tool")],
    )
    assert errors == {"calc": {"tools": "Calculator does not call tools"}}


def test_it_refuses_outputs_inputs_and_agents_as_tools() -> None:
    nodes = _nodes(node("out", OUTPUT, name="x"), node("in2", INPUT, name="y"), node("a2", AGENT))
    links = [
        link("agent", "tools", "out", "tool"),
        link("agent", "tools", "in2", "tool"),
        link("agent", "tools", "a2", "tool"),
    ]
    errors = _errors(nodes, links)
    assert "cannot be a tool" in errors["out"]["tool"]
    assert "cannot be a tool" in errors["in2"]["tool"]
    assert errors["a2"] == {"tool": "AI Agent cannot be a tool"}


def test_it_refuses_links_out_of_a_tool() -> None:
    nodes = _nodes(node("calc", CalculatorBlock.id), node("p", PRINT))
    links = [link("agent", "tools", "calc", "tool"), link("calc", "result", "p", "text")]
    assert _errors(nodes, links) == {
        "calc": {
            "links": "a tool's outputs go back to the agent that calls it: link nothing from it"
        }
    }
