"""Sub-agents: a node that runs another graph as a child execution (SPEC §6)."""

from collections.abc import Iterator
from typing import Any

from apps.graphs.blocks.base import (
    Block,
    BlockCategory,
    BlockOutput,
    BlockSchema,
    BlockType,
    SchemaField,
)
from apps.graphs.blocks.context import BlockContext


class AgentExecutorBlock(Block):
    id = "e189baac-8c20-45a1-94a7-55177ea42565"
    name = "Agent Executor"
    description = (
        "Runs another agent as a sub-execution with the given inputs, waits for it, and yields "
        "each of its outputs as {name: value} on `outputs` (link `outputs_#_<name>` to pick "
        "one). Stopping this run stops the child; the child's cost counts towards this run."
    )
    categories = frozenset({BlockCategory.AGENT})
    block_type = BlockType.AGENT
    # The child has the run time limit of its own; the node only stops a wedged child.
    timeout_seconds = 3600.0

    class Input(BlockSchema):
        graph_id: str = SchemaField(description="The agent (graph) to run.")
        graph_version: int | None = SchemaField(
            None, ge=1, description="Its version; the active one when unset."
        )
        inputs: dict[str, Any] = SchemaField(
            {}, description="The child run's inputs, by Input node name."
        )

    class Output(BlockOutput):
        outputs: dict[str, Any] = SchemaField(description="One child output: {name: value}.")
        status: str = SchemaField(description="How the child run ended.")

    test_input = {"graph_id": "00000000-0000-0000-0000-00000000beef"}
    test_output = [("error", lambda message: "sub-agent" in message)]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if context.agents is None:
            yield "error", "sub-agent runs are only possible inside a graph execution"
            return
        try:
            status, outputs = context.agents.run(
                graph_id=input_data.graph_id,
                graph_version=input_data.graph_version,
                inputs=input_data.inputs,
            )
        except Exception as exc:  # starting the child failed: a bad graph or inputs
            yield "error", f"sub-agent could not start: {getattr(exc, 'message', exc)}"
            return
        for name, values in outputs.items():
            for value in values:
                yield "outputs", {name: value}
        yield "status", status
        if status != "completed":
            yield "error", f"sub-agent run ended {status}"
