"""The engine's side of SPEC §15, without Django: an agent's tool calls become node executions
of nodes that otherwise never run, and a block that asks for a review parks its execution in
`review` until it is queued again."""

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from apps.executions.engine import EngineSettings, NodeExecutionRecord, Status
from apps.executions.engine.types import BlockRun, EngineNode
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.library.basic import AgentOutputBlock
from tests.executions.engine.blocks import Recorder
from tests.executions.engine.conftest import GraphBuilder, Harness, MemoryStore


class ScriptedAgent:
    """Calls its tools as scripted ([(name, arguments), ...] per turn) and yields the results."""

    name = "Scripted agent"

    def __init__(self, turns: list[list[tuple[str, dict[str, Any]]]]) -> None:
        self.turns = turns
        self.offered: list[Any] = []

    def execute(self, data: Mapping[str, Any], context: Any) -> Iterator[tuple[str, Any]]:
        self.offered = list(context.tools.tools)
        for calls in self.turns:
            for result in context.tools.call_many(calls):
                yield "finished", (result.status, result.outputs, result.error)


class Pauser:
    """Asks for a review the first time (reported through its BlockRun), then yields `value`."""

    name = "Pauser"

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        if context.node_exec_id not in self.asked:
            self.asked.add(context.node_exec_id or "")
            return
        yield "output", data.get("value")


class AgentHarness(Harness):
    """The Django side's block_run, in memory: tools and the review flag reach the block."""

    def __init__(self, graph: Any, store: MemoryStore | None = None, pauser: Pauser | None = None):
        super().__init__(graph, store)
        self.pauser = pauser

    def _block_run(self, node: EngineNode, record: NodeExecutionRecord, tools: Any = None):
        base = super()._block_run(node, record)
        context = dataclasses.replace(base.context, tools=tools)
        asks = self.pauser is not None and node.block is self.pauser
        first = asks and record.id not in self.pauser.asked  # type: ignore[union-attr]
        return BlockRun(context, base.cancel, base.stats, suspended=lambda: first)


def _tool(node: EngineNode, label: str) -> EngineNode:
    schema = {
        "type": "object",
        "properties": {"value": {"title": "Value"}, "extra": {"type": "string"}},
        "required": ["value"],
    }
    return dataclasses.replace(
        node, label=label, description="Forwards its value.", input_schema=schema
    )


def _agent_graph(agent: ScriptedAgent, log: list) -> Any:
    graph = GraphBuilder()
    graph.node("agent", agent)
    graph.node("echo", Recorder(log), extra="fixed")
    graph.node("out", AgentOutputBlock, name="answer")
    graph.nodes["echo"] = _tool(graph.nodes["echo"], "Echo it!")
    graph.link("agent", "tools", "echo", "tool")
    graph.link("agent", "finished", "out", "value")
    return graph.build()


def test_tool_calls_run_as_executions_of_a_node_that_never_runs_on_its_own() -> None:
    log: list = []
    agent = ScriptedAgent([[("Echo_it", {"value": 1}), ("Echo_it", {"value": 2, "extra": "x"})]])
    harness = AgentHarness(_agent_graph(agent, log))
    result = harness.run()
    assert result.status == Status.COMPLETED
    (spec,) = agent.offered
    assert (spec.name, spec.description) == ("Echo_it", "Echo it!: Forwards its value.")
    # `extra` has a default on the node: fixed, so not offered to the model.
    assert set(spec.parameters["properties"]) == {"value"}
    assert spec.parameters["additionalProperties"] is False
    calls = harness.store.of("echo")
    assert [record.status for record in calls] == [Status.COMPLETED, Status.COMPLETED]
    assert [record.input_data for record in calls] == [
        {"value": 1, "extra": "fixed"},
        {"value": 2, "extra": "fixed"},  # arguments outside the schema are dropped
    ]
    assert result.outputs == {
        "answer": [
            ("completed", [("output", 1)], None),
            ("completed", [("output", 2)], None),
        ]
    }
    assert [node for node, _ in harness.charged].count("echo") == 2


def test_an_unknown_tool_is_a_failed_result_without_an_execution() -> None:
    agent = ScriptedAgent([[("nope", {})]])
    harness = AgentHarness(_agent_graph(agent, []))
    result = harness.run()
    assert result.outputs["answer"] == [("failed", [], "there is no tool named 'nope'")]
    assert harness.store.of("echo") == []


def test_a_resumed_agent_cancels_its_interrupted_calls_and_runs_again() -> None:
    agent = ScriptedAgent([[("Echo_it", {"value": 7})]])
    graph = _agent_graph(agent, [])
    store = MemoryStore()
    store.seed(
        [
            NodeExecutionRecord("a1", "agent", 0, Status.RUNNING, {}, started_at=1.0),
            NodeExecutionRecord("t1", "echo", 1, Status.RUNNING, {"value": 3}, started_at=1.0),
        ]
    )
    result = AgentHarness(graph, store).run()
    assert result.status == Status.COMPLETED
    assert store.statuses("echo") == [Status.CANCELLED, Status.COMPLETED]
    assert result.outputs["answer"] == [("completed", [("output", 7)], None)]


def test_a_review_parks_its_execution_while_other_branches_finish() -> None:
    pauser = Pauser()
    graph = GraphBuilder()
    graph.node("review", pauser, value="draft")
    graph.node("other", Recorder(), value="side")
    graph.node("approved", AgentOutputBlock, name="approved")
    graph.node("side", AgentOutputBlock, name="side")
    graph.link("review", "output", "approved", "value")
    graph.link("other", "output", "side", "value")
    built = graph.build()
    harness = AgentHarness(built, pauser=pauser)
    result = harness.run()
    assert result.status == Status.REVIEW
    assert result.outputs == {"side": ["side"]}
    waiting = harness.store.one("review")
    assert (waiting.status, waiting.ended_at, waiting.outputs) == (Status.REVIEW, None, [])
    # The decision queues it again (the Django side does this in the database); a new run
    # of the engine runs it, from the same input, and goes on downstream.
    waiting.status = Status.QUEUED
    harness.store.records[waiting.id] = waiting
    result = AgentHarness(built, harness.store, pauser=pauser).run()
    assert result.status == Status.COMPLETED
    assert result.outputs == {"side": ["side"], "approved": ["draft"]}


def test_stop_cancels_a_parked_review() -> None:
    pauser = Pauser()
    graph = GraphBuilder()
    graph.node("review", pauser, value="draft")
    built = graph.build()
    store = MemoryStore()
    store.seed([NodeExecutionRecord("r1", "review", 0, Status.REVIEW, {"value": "draft"})])
    harness = AgentHarness(built, store, pauser=pauser)
    harness.stop_requested.set()
    result = harness.run(EngineSettings(tick_seconds=0.01))
    assert result.status == Status.CANCELLED
    assert store.statuses("review") == [Status.CANCELLED]


def test_a_tools_linked_pin_is_fixed_by_its_latest_value_on_every_call() -> None:
    agent = ScriptedAgent([[("Echo_it", {"value": 1, "extra": "ignored"})]])
    graph = GraphBuilder()
    graph.node("source", Recorder(), value="from a link")
    graph.node("agent", agent)
    graph.node("echo", Recorder())
    graph.node("out", AgentOutputBlock, name="answer")
    graph.nodes["echo"] = _tool(graph.nodes["echo"], "Echo it!")
    graph.link("source", "output", "echo", "extra")
    graph.link("source", "output", "agent", "go")  # the agent starts once the value is there
    graph.link("agent", "tools", "echo", "tool")
    graph.link("agent", "finished", "out", "value")
    harness = AgentHarness(graph.build())
    result = harness.run()
    assert result.status == Status.COMPLETED
    assert set(agent.offered[0].parameters["properties"]) == {"value"}
    (call,) = harness.store.of("echo")
    assert call.input_data == {"value": 1, "extra": "from a link"}


def test_a_call_of_a_tool_whose_linked_pin_has_no_value_yet_fails_clearly() -> None:
    agent = ScriptedAgent([[("Echo_it", {"value": 1})]])
    graph = GraphBuilder()
    graph.node("agent", agent)
    graph.node("later", Recorder())
    graph.node("echo", Recorder())
    graph.node("out", AgentOutputBlock, name="answer")
    graph.nodes["echo"] = _tool(graph.nodes["echo"], "Echo it!")
    graph.link("agent", "never", "later", "value")  # the agent yields nothing on `never`
    graph.link("later", "output", "echo", "extra")
    graph.link("agent", "tools", "echo", "tool")
    graph.link("agent", "finished", "out", "value")
    built = graph.build()
    result = AgentHarness(built).run()
    assert result.outputs["answer"] == [("failed", [], "the tool's input 'extra' has no value yet")]
