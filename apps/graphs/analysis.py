"""Structure analysis and cost estimate of a graph version (seed 02 §6.1)."""

from collections import defaultdict
from typing import Any

from apps.graphs.blocks.base import RUN_INPUT_BLOCK_TYPES, BlockType
from apps.graphs.blocks.registry import get_block
from apps.graphs.costs import block_cost_amount, block_costs
from apps.graphs.spec import GraphSpec

LARGE_GRAPH_NODES = 50
DEEP_GRAPH_LEVELS = 10
BOTTLENECK_FAN_IN = 3


def execution_batches(spec: GraphSpec) -> list[list[str]]:
    """Topological levels: every node of a batch can run once the batches before it are done."""
    keys = [node.key for node in spec.nodes]
    upstream: dict[str, set[str]] = {key: set() for key in keys}
    for link in spec.links:
        if link.sink_id in upstream and link.source_id in upstream:
            upstream[link.sink_id].add(link.source_id)
    done: set[str] = set()
    batches: list[list[str]] = []
    remaining = list(keys)
    while remaining:
        ready = [key for key in remaining if upstream[key] <= done]
        if not ready:  # a cycle; validation reports it, analysis stops here
            break
        batches.append(ready)
        done.update(ready)
        remaining = [key for key in remaining if key not in done]
    return batches


def graph_analysis(spec: GraphSpec) -> dict[str, Any]:
    executable = GraphSpec(
        nodes=tuple(
            node
            for node in spec.nodes
            if (block := get_block(node.block_id)) is None or block.block_type != BlockType.NOTE
        ),
        links=spec.links,
    )
    batches = execution_batches(executable)
    fan_in: dict[str, set[str]] = defaultdict(set)
    for link in spec.links:
        fan_in[link.sink_id].add(link.source_id)
    bottlenecks = sorted(
        key for key, sources in fan_in.items() if len(sources) >= BOTTLENECK_FAN_IN
    )
    suggestions = []
    if len(executable.nodes) > LARGE_GRAPH_NODES:
        suggestions.append(
            f"The graph has {len(executable.nodes)} nodes; split it into sub-agents "
            "(Agent Executor) to keep it maintainable."
        )
    if len(batches) > DEEP_GRAPH_LEVELS:
        suggestions.append(
            f"The longest chain is {len(batches)} nodes deep; independent steps placed in "
            "parallel branches finish sooner."
        )
    if bottlenecks:
        suggestions.append(
            "These nodes wait for three or more upstream nodes and may hold up the run: "
            + ", ".join(bottlenecks)
        )
    return {
        "node_count": len(executable.nodes),
        "link_count": len(spec.links),
        "max_depth": len(batches),
        "parallel_branches": max((len(batch) for batch in batches), default=0),
        "execution_batches": batches,
        "bottlenecks": bottlenecks,
        "suggestions": suggestions,
    }


def graph_cost_estimate(spec: GraphSpec) -> dict[str, Any]:
    """Credits one run costs at least: each node's first matching rule on its defaults, once
    (a fan-out runs a node more often; BYTE rules count the defaults' size)."""
    node_costs: dict[str, dict[str, Any]] = {}
    total = 0
    for node in spec.nodes:
        block = get_block(node.block_id)
        if block is None:
            continue
        rule = next((r for r in block_costs(block) if r.matches(node.input_default)), None)
        if rule is None:
            continue
        amount = block_cost_amount(block, node.input_default)
        node_costs[node.key] = {"credits": amount, "unit": rule.unit.value}
        total += amount
    return {"total_credits": total, "node_costs": node_costs}


def graph_input_schema(spec: GraphSpec) -> dict[str, Any]:
    """JSON schema of a run's `inputs`, one property per Input node (for run forms and clients)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for node in spec.nodes:
        block = get_block(node.block_id)
        if block is None or block.block_type not in RUN_INPUT_BLOCK_TYPES:
            continue
        defaults = node.input_default
        name = block.run_input_name(defaults)
        if name is None:
            continue
        schema = dict(block.input_pins().get("value", {}))
        # The block's own pin text ("Filled from the run's inputs.") says nothing to whoever
        # fills the form; only the node's description is shown.
        schema.pop("default", None)
        schema.pop("description", None)
        schema["title"] = defaults.get("title") or name
        if defaults.get("description"):
            schema["description"] = defaults["description"]
        if defaults.get("default") is not None:
            schema["default"] = defaults["default"]
        elif defaults.get("value") is None:
            required.append(name)
        properties[name] = schema
    return {"type": "object", "properties": properties, "required": required}


def graph_output_names(spec: GraphSpec) -> list[str]:
    names = []
    for node in spec.nodes:
        block = get_block(node.block_id)
        if block is not None and block.block_type == BlockType.OUTPUT:
            names.append(node.input_default.get("name") or node.key)
    return names
