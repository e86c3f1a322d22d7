"""Plain descriptions of a graph version, built from a request or from rows, for validation
and analysis. No ORM types: the same checks run before anything is saved."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Dynamic pin suffixes (SPEC §6): name_$_0 (list item), name_#_key (dict entry), name_@_attr.
LIST_SEPARATOR = "_$_"
DICT_SEPARATOR = "_#_"
OBJECT_SEPARATOR = "_@_"
DYNAMIC_SEPARATORS = (LIST_SEPARATOR, DICT_SEPARATOR, OBJECT_SEPARATOR)


# A tool link (SPEC §15): from an AI Agent's `tools` output to the `tool` end of the node it may
# call, which has no such pin (the engine's copy: apps/executions/engine/tools.py).
TOOLS_PIN = "tools"
TOOL_PIN = "tool"


# Node settings in its metadata (SPEC §17): attempts at a retriable failure (1 to 10, for blocks
# with a retry policy) and the node's own time limit in seconds.
MAX_ATTEMPTS_METADATA_KEY = "max_attempts"
MAX_ATTEMPTS_LIMIT = 10
TIMEOUT_METADATA_KEY = "timeout_seconds"
TIMEOUT_LIMIT_SECONDS = 86_400


def is_tool_link(link: "LinkSpec") -> bool:
    return link.source_name == TOOLS_PIN and link.sink_name == TOOL_PIN


def split_dynamic_pin(pin: str) -> tuple[str, str | None, str | None]:
    """`values_#_name` → ("values", "_#_", "name"); a plain pin → (pin, None, None)."""
    positions = [(pin.find(sep), sep) for sep in DYNAMIC_SEPARATORS if sep in pin]
    if not positions:
        return pin, None, None
    index, separator = min(positions)
    return pin[:index], separator, pin[index + len(separator) :]


@dataclass(frozen=True)
class NodeSpec:
    key: str
    block_id: str
    input_default: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class LinkSpec:
    source_id: str
    source_name: str
    sink_id: str
    sink_name: str
    is_static: bool = False


@dataclass(frozen=True)
class GraphSpec:
    nodes: tuple[NodeSpec, ...]
    links: tuple[LinkSpec, ...]

    def node(self, key: str) -> NodeSpec | None:
        return next((node for node in self.nodes if node.key == key), None)
