"""The coordinator's side of an AI Agent's tool calls (engine/tools.py has the contract):
a mixin of the run, which owns all state; block threads only post requests to its queue."""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from apps.executions.engine.tools import Pending, Toolbox, ToolResult, ToolSpec
from apps.executions.engine.types import (
    BlockRun,
    EngineNode,
    NodeExecutionRecord,
    Ports,
    Status,
)


@dataclass(frozen=True)
class ToolRequest:
    """An agent's calls of one model turn, posted from its block thread (engine/tools.py)."""

    agent_exec_id: str
    calls: Sequence[tuple[str, dict[str, Any]]]
    pending: Pending


class AgentCalls:
    """Tool calls of the run's agents. The run provides the state and helpers named here."""

    ports: Ports
    nodes: dict[str, EngineNode]
    running: dict[str, Any]  # record id → the run's _Active
    messages: Any  # the coordinator's queue
    linked_pins: dict[str, set[str]]
    static_values: dict[str, dict[str, Any]]
    tools_of: dict[str, dict[str, ToolSpec]]
    tool_records: dict[str, tuple[Pending, int, str]]  # → (batch, index, calling agent)
    final_status: Status | None
    dispatch_stopped: bool
    _new_record: Callable[[str, dict[str, Any]], NodeExecutionRecord]
    _start: Callable[[NodeExecutionRecord, EngineNode], bool]

    def _block_run(
        self, node: EngineNode, record: NodeExecutionRecord, stop: threading.Event
    ) -> BlockRun:
        """The block_run port; an agent's execution gets its Toolbox too."""
        if node.id not in self.tools_of:
            return self.ports.block_run(node, record)
        toolbox = Toolbox(
            agent_exec_id=record.id,
            tools=list(self.tools_of[node.id].values()),
            submit=lambda agent, calls, pending: self.messages.put(
                ToolRequest(agent, calls, pending)
            ),
            stopped=stop,
        )
        return self.ports.block_run(node, record, tools=toolbox)

    def _tool_call_ended(self, record: NodeExecutionRecord) -> None:
        pending, index, _ = self.tool_records[record.id]
        result = ToolResult(record.id, record.status.value, list(record.outputs), record.error)
        pending.resolve(index, result)

    def _call_tools(self, request: ToolRequest) -> None:
        """Each call becomes a node execution of its tool node, started at once (the agent
        already holds a slot and waits for them: the parallelism cap would deadlock it)."""
        agent = self.running.get(request.agent_exec_id)
        for index, (name, arguments) in enumerate(request.calls):
            spec = self.tools_of.get(agent.node.id, {}).get(name) if agent else None
            problem = None
            if agent is None or self.final_status is not None or self.dispatch_stopped:
                problem = "the run is stopping"
            elif spec is None:
                problem = f"there is no tool named {name!r}"
            else:
                linked = self.linked_pins[spec.node_id]
                known = self.static_values[spec.node_id]
                missing = sorted(pin for pin in linked if pin not in known)
                if missing:
                    problem = f"the tool's input {missing[0]!r} has no value yet"
            if problem is not None or spec is None:
                request.pending.resolve(index, ToolResult(None, Status.FAILED.value, [], problem))
                continue
            allowed = spec.parameters["properties"]
            data = {pin: self.static_values[spec.node_id][pin] for pin in linked}
            data.update((pin, value) for pin, value in arguments.items() if pin in allowed)
            record = self._new_record(spec.node_id, data)
            record.status, record.queued_at = Status.QUEUED, self.ports.now()
            self.tool_records[record.id] = (request.pending, index, request.agent_exec_id)
            self._start(record, self.nodes[spec.node_id])

    def _stop_tool_calls(self, agent_exec_id: str) -> None:
        """The agent ended (timed out, stopped): its calls in flight are interrupted."""
        for record_id, active in self.running.items():
            entry = self.tool_records.get(record_id)
            if entry is not None and entry[2] == agent_exec_id:
                active.stop.set()
                active.block_run.cancel()
