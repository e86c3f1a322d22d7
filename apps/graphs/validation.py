"""Graph validation (SPEC §5): every error is collected into node_errors, never first-only.

`graph_errors_on_save` checks structure; `graph_errors_for_run` adds what a run needs. Errors
that belong to no single node are filed under the key GRAPH_KEY.
"""

from collections import defaultdict, deque
from collections.abc import Mapping
from typing import Any

from apps.common.numbers import parse_int
from apps.graphs.blocks.base import RUN_INPUT_BLOCK_TYPES, Block, BlockInputError, BlockType
from apps.graphs.blocks.registry import get_block
from apps.graphs.spec import (
    DICT_SEPARATOR,
    LIST_SEPARATOR,
    MAX_ATTEMPTS_LIMIT,
    MAX_ATTEMPTS_METADATA_KEY,
    TIMEOUT_LIMIT_SECONDS,
    TIMEOUT_METADATA_KEY,
    TOOL_PIN,
    TOOLS_PIN,
    GraphSpec,
    LinkSpec,
    NodeSpec,
    is_tool_link,
    split_dynamic_pin,
)

# Blocks a tool node may use: ones that run and end (no run input, output, note or an agent).
_TOOL_BLOCK_TYPES = frozenset({BlockType.STANDARD, BlockType.AGENT})

GRAPH_KEY = "graph"
NodeErrors = dict[str, dict[str, str]]


class _Errors:
    def __init__(self) -> None:
        self.by_node: NodeErrors = defaultdict(dict)

    def add(self, node: str, field: str, message: str) -> None:
        self.by_node[node].setdefault(field, message)

    def result(self) -> NodeErrors:
        return {node: dict(fields) for node, fields in self.by_node.items() if fields}


def _types(pin_schema: Mapping[str, Any]) -> set[str]:
    """JSON-schema types a pin accepts; {"any"} when unconstrained."""
    if "type" in pin_schema:
        kind = pin_schema["type"]
        return set(kind) if isinstance(kind, list) else {kind}
    for combinator in ("anyOf", "oneOf"):
        if combinator in pin_schema:
            found: set[str] = set()
            for option in pin_schema[combinator]:
                found |= _types(option)
            return found
    return {"any"}  # no type: unconstrained, or a $ref/enum we do not type-check


def _compatible(source: set[str], sink: set[str]) -> bool:
    if "any" in source or "any" in sink:
        return True
    for produced in source - {"null"}:
        for accepted in sink:
            if produced == accepted:
                return True
            if produced == "integer" and accepted == "number":
                return True
            # Scalars are rendered to text where text is expected (a number into a prompt).
            if accepted == "string" and produced in {"number", "integer", "boolean"}:
                return True
    return source <= {"null"}


def _sink_pin_schema(block: Block, pin: str) -> tuple[dict[str, Any] | None, str | None]:
    """The schema a value on `pin` must satisfy, or (None, why-not)."""
    pins = block.input_pins()
    base, separator, suffix = split_dynamic_pin(pin)
    if base not in pins:
        return None, f"{block.name} has no input pin named {base!r}"
    schema = pins[base]
    if separator is None:
        return schema, None
    kinds = _types(schema)
    if separator == LIST_SEPARATOR:
        if not kinds & {"array", "any"}:
            return None, f"pin {base!r} of {block.name} is not a list"
        if parse_int(suffix) is None:
            return None, f"{pin!r}: a list position is a number of ASCII digits (0, 1, …)"
        return schema.get("items", {}), None
    if separator == DICT_SEPARATOR:
        if not kinds & {"object", "any"}:
            return None, f"pin {base!r} of {block.name} is not a dictionary"
        extra = schema.get("additionalProperties")
        return (extra if isinstance(extra, dict) else {}), None
    if not kinds & {"object", "any"}:
        return None, f"pin {base!r} of {block.name} does not take attributes"
    return {}, None


def _source_pin_schema(block: Block, pin: str) -> tuple[dict[str, Any] | None, str | None]:
    pins = block.output_pins()
    base, separator, suffix = split_dynamic_pin(pin)
    if base not in pins:
        return None, f"{block.name} has no output pin named {base!r}"
    if separator == LIST_SEPARATOR and parse_int(suffix, signed=True) is None:
        return None, f"{pin!r}: a list index is a number of ASCII digits (0, 1, -1, …)"
    # A part picked out of an output (`response_#_id`) can be of any type.
    return (pins[base] if separator is None else {}), None


def _check_links(spec: GraphSpec, blocks: Mapping[str, Block], errors: _Errors) -> None:
    keys = {node.key for node in spec.nodes}
    for index, link in enumerate(spec.links):
        where = f"links.{index}"
        missing = [end for end in (link.source_id, link.sink_id) if end not in keys]
        if missing:
            errors.add(GRAPH_KEY, where, f"link refers to unknown node {missing[0]!r}")
            continue
        source_block = blocks.get(link.source_id)
        sink_block = blocks.get(link.sink_id)
        if source_block is None or sink_block is None:
            continue  # the unknown block is reported on its node
        if is_tool_link(link) or (source_block.calls_tools and link.source_name == TOOLS_PIN):
            _check_tool_link(spec, link, source_block, sink_block, errors)
            continue
        source_schema, problem = _source_pin_schema(source_block, link.source_name)
        if problem:
            errors.add(link.source_id, link.source_name, problem)
        sink_schema, problem = _sink_pin_schema(sink_block, link.sink_name)
        if problem:
            errors.add(link.sink_id, link.sink_name, problem)
        if source_schema is not None and sink_schema is not None:
            produced, accepted = _types(source_schema), _types(sink_schema)
            if not _compatible(produced, accepted):
                errors.add(
                    link.sink_id,
                    link.sink_name,
                    f"type mismatch: {source_block.name}.{link.source_name} gives "
                    f"{'/'.join(sorted(produced))}, {link.sink_name} takes "
                    f"{'/'.join(sorted(accepted))}",
                )


def _check_tool_link(
    spec: GraphSpec, link: LinkSpec, source: Block, sink: Block, errors: _Errors
) -> None:
    """An AI Agent's `tools` pin links to the `tool` end of a node it may call; that node runs
    only when called, and its outputs go back to the agent (apps/executions/engine/tools.py)."""
    if not source.calls_tools:
        errors.add(link.source_id, TOOLS_PIN, f"{source.name} does not call tools")
    elif link.sink_name != TOOL_PIN:
        errors.add(
            link.sink_id,
            link.sink_name,
            f"a `{TOOLS_PIN}` link ends on the node's `{TOOL_PIN}` end, not on a pin",
        )
    elif sink.block_type not in _TOOL_BLOCK_TYPES or sink.calls_tools or sink.pauses:
        errors.add(link.sink_id, TOOL_PIN, f"{sink.name} cannot be a tool")
    elif any(other.source_id == link.sink_id for other in spec.links):
        errors.add(
            link.sink_id,
            "links",
            "a tool's outputs go back to the agent that calls it: link nothing from it",
        )


def _cycle_members(spec: GraphSpec) -> set[str]:
    """Nodes left over by Kahn's algorithm sit on (or behind) a cycle."""
    keys = {node.key for node in spec.nodes}
    incoming = {key: 0 for key in keys}
    outgoing: dict[str, list[str]] = defaultdict(list)
    for link in spec.links:
        if link.source_id in keys and link.sink_id in keys:
            incoming[link.sink_id] += 1
            outgoing[link.source_id].append(link.sink_id)
    ready = deque(key for key, count in incoming.items() if count == 0)
    while ready:
        key = ready.popleft()
        for sink in outgoing[key]:
            incoming[sink] -= 1
            if incoming[sink] == 0:
                ready.append(sink)
    return {key for key, count in incoming.items() if count > 0}


def _resolve_blocks(spec: GraphSpec, errors: _Errors) -> dict[str, Block]:
    blocks: dict[str, Block] = {}
    for node in spec.nodes:
        block = get_block(node.block_id)
        if block is None:
            errors.add(node.key, "block_id", f"unknown block {node.block_id!r}")
        else:
            blocks[node.key] = block
    return blocks


def _check_node_settings(node: NodeSpec, block: Block, errors: _Errors) -> None:
    """The node settings the engine reads from its metadata (SPEC §17)."""
    attempts = node.metadata.get(MAX_ATTEMPTS_METADATA_KEY)
    if attempts is not None:
        if block.retry_policy is None:
            errors.add(
                node.key,
                MAX_ATTEMPTS_METADATA_KEY,
                f"{block.name} has no retriable failures: it runs once",
            )
        elif (
            not isinstance(attempts, int)
            or isinstance(attempts, bool)
            or not 1 <= attempts <= MAX_ATTEMPTS_LIMIT
        ):
            errors.add(
                node.key,
                MAX_ATTEMPTS_METADATA_KEY,
                f"attempts must be a whole number from 1 to {MAX_ATTEMPTS_LIMIT}",
            )
    timeout = node.metadata.get(TIMEOUT_METADATA_KEY)
    if timeout is not None and (
        not isinstance(timeout, int | float)
        or isinstance(timeout, bool)
        or not 0 < timeout <= TIMEOUT_LIMIT_SECONDS
    ):
        errors.add(
            node.key,
            TIMEOUT_METADATA_KEY,
            f"the time limit must be a number of seconds, above 0 and at most "
            f"{TIMEOUT_LIMIT_SECONDS}",
        )


def graph_errors_on_save(spec: GraphSpec) -> NodeErrors:
    errors = _Errors()
    if not spec.nodes:
        errors.add(GRAPH_KEY, "nodes", "a graph needs at least one node")
        return errors.result()
    seen: set[str] = set()
    for node in spec.nodes:
        if node.key in seen:
            errors.add(node.key, "id", f"node id {node.key!r} is used twice")
        seen.add(node.key)
    blocks = _resolve_blocks(spec, errors)
    linked_pins = _linked_pins(spec.links)
    for node in spec.nodes:
        block = blocks.get(node.key)
        if block is None:
            continue
        pins = block.input_pins()
        for name in node.input_default:
            if split_dynamic_pin(name)[0] not in pins:
                errors.add(node.key, name, f"{block.name} has no input pin named {name!r}")
        # A value fixed on a pin that no link overrides must fit the pin now, not fail the run.
        fixed = {
            name: value
            for name, value in node.input_default.items()
            if name in pins and name not in linked_pins[node.key] and value is not None
        }
        for pin, message in block.default_errors(fixed).items():
            errors.add(node.key, pin, message)
        _check_node_settings(node, block, errors)
    _check_links(spec, blocks, errors)
    for key in sorted(_cycle_members(spec)):
        errors.add(key, "links", "this node is part of a cycle")
    return errors.result()


def _linked_pins(links: tuple[LinkSpec, ...]) -> defaultdict[str, set[str]]:
    """Per node key, the input pins some link ends on (one pass: graphs have thousands)."""
    linked: defaultdict[str, set[str]] = defaultdict(set)
    for link in links:
        linked[link.sink_id].add(split_dynamic_pin(link.sink_name)[0])
    return linked


def graph_errors_for_run(
    spec: GraphSpec, run_inputs: Mapping[str, Any], *, require_run_inputs: bool = True
) -> NodeErrors:
    """Structure, then: required inputs provided, an entry node, nothing unreachable, and run
    inputs that match the Input nodes' types. With `require_run_inputs` False (the builder's
    check after a save, when no run is being started) a missing run input is not an error."""
    structural = graph_errors_on_save(spec)
    if structural:
        return structural
    errors = _Errors()
    blocks = _resolve_blocks(spec, errors)  # all known: the structural check passed
    executable = [node for node in spec.nodes if blocks[node.key].block_type != BlockType.NOTE]
    input_names: set[str] = set()
    tool_nodes = {link.sink_id for link in spec.links if is_tool_link(link)}
    linked_pins = _linked_pins(spec.links)

    for node in executable:
        block = blocks[node.key]
        provided = set(node.input_default) | linked_pins[node.key]
        provided |= {split_dynamic_pin(name)[0] for name in node.input_default}
        is_run_input = block.block_type in RUN_INPUT_BLOCK_TYPES
        name = block.run_input_name(node.input_default) if is_run_input else None
        if is_run_input and name is None and "name" in node.input_default:
            errors.add(node.key, "name", "the input's name must be non-empty text")
        if name is not None:
            input_names.add(name)
            data = dict(node.input_default)
            if name in run_inputs:
                data["value"] = run_inputs[name]
            elif data.get("value") is None and data.get("default") is None:
                if require_run_inputs:
                    errors.add(node.key, "value", f"the run input {name!r} is required")
                continue
            try:
                block.parse_input(data)
            except BlockInputError as exc:
                for pin, message in exc.errors.items():
                    errors.add(node.key, pin, f"run input {name!r}: {message}")
                continue
            provided.add("value")
        if node.key in tool_nodes:
            continue  # the model fills its free inputs when it calls the tool
        for pin in sorted(block.required_inputs() - provided):
            errors.add(node.key, pin, f"required input {pin!r} has no default and no link")

    # Entry nodes have no linked pins. A linked pin is always waited for, so a node with a link
    # from a Note (never executed) can never run, nor can anything behind it. (A node behind a
    # node with errors is not reported again: fixing the first error may well fix it.)
    executable_keys = {node.key for node in executable}
    blocked = {link.sink_id for link in spec.links if link.source_id not in executable_keys}
    startable = {key for key in executable_keys if not linked_pins[key]}
    sinks: defaultdict[str, list[str]] = defaultdict(list)
    for link in spec.links:
        sinks[link.source_id].append(link.sink_id)

    for name in sorted(set(run_inputs) - input_names):
        errors.add(GRAPH_KEY, f"inputs.{name}", f"no Input node is named {name!r}")
    if executable and not startable:
        errors.add(GRAPH_KEY, "nodes", "no node can start: every node waits for a link")

    reached = set(startable)
    frontier = deque(startable)
    while frontier:
        for sink in sinks[frontier.popleft()]:
            if sink not in reached and sink not in blocked:
                reached.add(sink)
                frontier.append(sink)
    for node in executable:
        if node.key not in reached and not errors.by_node.get(node.key):
            errors.add(node.key, "links", "unreachable: no path from a node that can start")
    return errors.result()
