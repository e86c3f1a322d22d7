"""Tool calls: an AI Agent node runs other nodes of its graph on the model's behalf (SPEC §15).

The nodes linked from an agent's `tools` pin are its tools. They never run from links: each call
the model makes becomes a node execution of the tool node, created and dispatched by the run's
coordinator like any other (charged, bounded by the node's timeout, committed, published), but
its outputs go back to the calling agent instead of along links. Values arriving on a tool
node's own linked pins are kept, like static links, and fill those pins on every call.

The agent's block reaches the coordinator through a `Toolbox` in its context (given to the
`block_run` port). `call_many` hands every call of one model turn to the coordinator at once, so
they run side by side, and waits for all of them; it gives up when the agent's own execution is
stopped (run cancelled, agent timed out), and the coordinator stops the calls in flight.
"""

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from apps.executions.engine.pins import split_pin
from apps.executions.engine.types import EngineLink

# A tool link: from the agent's `tools` output to the tool node's (pin-less) `tool` end.
TOOLS_PIN = "tools"
TOOL_PIN = "tool"
# Schema keys of our pins that mean nothing to a model.
_UI_KEYS = frozenset({"secret", "advanced", "placeholder", "options"})
_NAME_LIMIT = 48  # providers allow 64 characters; room for a "_2" suffix


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call: one tool node, described by its label, block description
    and the JSON Schema of its free inputs (not fixed by a default or a link)."""

    name: str
    node_id: str
    description: str
    parameters: dict[str, Any]

    def as_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True)
class ToolResult:
    """How one call ended: its node execution, final status and outputs in yield order."""

    node_exec_id: str | None
    status: str
    outputs: list[tuple[str, Any]] = field(default_factory=list)
    error: str | None = None


class ToolCallStopped(Exception):
    """The calling agent's execution was stopped while it waited for its tools."""


def _clean(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: _clean(value) for key, value in schema.items() if key not in _UI_KEYS}
    if isinstance(schema, list):
        return [_clean(value) for value in schema]
    return schema


def free_parameters(input_schema: Mapping[str, Any], fixed: set[str]) -> dict[str, Any]:
    """The JSON Schema of the pins the model fills: every input pin but the fixed ones."""
    properties = {
        name: _clean(pin)
        for name, pin in (input_schema.get("properties") or {}).items()
        if name not in fixed
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": [name for name in input_schema.get("required", []) if name in properties],
        "additionalProperties": False,
    }
    if input_schema.get("$defs"):
        schema["$defs"] = _clean(input_schema["$defs"])
    return schema


def tool_name(label: str, taken: set[str]) -> str:
    """A provider-safe function name (`^[a-zA-Z0-9_-]{1,64}$`) from the node's label, unique
    among the agent's tools."""
    base = re.sub(r"[^a-zA-Z0-9_-]+", "_", label).strip("_")[:_NAME_LIMIT] or "tool"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name


def agent_tools(
    nodes: Mapping[str, Any], tool_links: Sequence[Any], linked_pins: Mapping[str, set[str]]
) -> dict[str, dict[str, ToolSpec]]:
    """{agent node id: {tool name: spec}}: each tool node linked from an agent, with its free
    inputs (pins without a default in the node and without a link of their own)."""
    specs: dict[str, dict[str, ToolSpec]] = {}
    for link in tool_links:
        node = nodes[link.sink_id]
        fixed = set(node.input_default) | {_base(pin) for pin in linked_pins.get(node.id, ())}
        label = node.label or node.block.name
        tools = specs.setdefault(link.source_id, {})
        name = tool_name(label, set(tools))
        tools[name] = ToolSpec(
            name=name,
            node_id=node.id,
            description=f"{label}: {node.description}" if node.description else label,
            parameters=free_parameters(node.input_schema, fixed),
        )
    return specs


def _base(pin: str) -> str:
    return split_pin(pin)[0]  # `values_#_key` → `values`


Submit = Callable[[str, Sequence[tuple[str, dict[str, Any]]], "Pending"], None]


class Pending:
    """The results of one batch of calls, filled in by the coordinator."""

    def __init__(self, count: int) -> None:
        self.results: list[ToolResult | None] = [None] * count
        self._left = count
        self._lock = threading.Lock()
        self.done = threading.Event()
        if count == 0:
            self.done.set()

    def resolve(self, index: int, result: ToolResult) -> None:
        with self._lock:
            if self.results[index] is not None:
                return
            self.results[index] = result
            self._left -= 1
            if self._left == 0:
                self.done.set()


class Toolbox:
    """What an agent's block gets in its context (`context.tools`)."""

    def __init__(
        self,
        *,
        agent_exec_id: str,
        tools: Sequence[ToolSpec],
        submit: Submit,
        stopped: threading.Event,
        tick_seconds: float = 0.05,
    ) -> None:
        self.agent_exec_id = agent_exec_id
        self.tools = list(tools)
        self._submit, self._stopped, self._tick = submit, stopped, tick_seconds

    def call_many(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[ToolResult]:
        """Run (tool name, arguments) calls concurrently as node executions; their results in
        the same order. Raises ToolCallStopped when the agent is stopped meanwhile."""
        pending = Pending(len(calls))
        if calls:
            self._submit(self.agent_exec_id, calls, pending)
        while not pending.done.wait(self._tick):
            if self._stopped.is_set():
                raise ToolCallStopped("the agent was stopped while its tools ran")
        return [result for result in pending.results if result is not None]


def is_tool_link(link: EngineLink) -> bool:
    return link.source_name == TOOLS_PIN and link.sink_name == TOOL_PIN
