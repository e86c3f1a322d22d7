"""Retry from failure (SPEC §17): the node executions a new run starts from when it retries a
finished one. Plain functions over the engine's types, like `initial_node_executions`.

The nodes to run again are those with an execution that failed, was cancelled or timed out
("redo", unless another such node feeds them), and everything downstream of them: what those
produced came from the failure.
Every other completed execution is taken as it was (its outputs kept, `reused_from` in its
stats): the engine does not run it, so it is not charged again. A redo node's executions are
queued again from the input they had; a downstream node keeps, as an incomplete execution, only
the values it had received from nodes that are not run again (those will not send them again),
and waits for the rest from the nodes that are.
"""

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from apps.executions.engine.pins import is_missing, pick, split_pin
from apps.executions.engine.tools import is_tool_link
from apps.executions.engine.types import EngineGraph, NodeExecutionRecord, Status

REDO = frozenset({Status.FAILED, Status.CANCELLED, Status.TIMEOUT})


def _downstream(graph: EngineGraph, sources: Iterable[str]) -> set[str]:
    """Every node reachable by one link or more from `sources` (a source too, when another
    source leads to it)."""
    after: dict[str, set[str]] = defaultdict(set)
    for link in graph.links:
        after[link.source_id].add(link.sink_id)
    found: set[str] = set()
    frontier = deque(set(sources))
    while frontier:
        for sink in after[frontier.popleft()]:
            if sink not in found:
                found.add(sink)
                frontier.append(sink)
    return found


def retry_node_executions(
    graph: EngineGraph,
    records: Sequence[NodeExecutionRecord],
    *,
    now: float,
    new_id: Callable[[], str],
) -> list[NodeExecutionRecord]:
    """The node executions of a run that retries the finished run of `records` (see above)."""
    failed = {record.node_id for record in records if record.status in REDO}
    downstream = _downstream(graph, failed)
    redo = failed - downstream  # one fed by another failed node runs when that one sends
    tool_nodes = {link.sink_id for link in graph.links if is_tool_link(link)}
    kept_pins: dict[str, set[str]] = defaultdict(set)  # node → pins fed by nodes not run again
    linked: dict[str, set[str]] = defaultdict(set)
    for link in graph.links:
        linked[link.sink_id].add(link.sink_name)
        if link.source_id not in redo and link.source_id not in downstream:
            kept_pins[link.sink_id].add(link.sink_name)
    seeds = []
    for record in sorted(records, key=lambda record: record.sequence):
        node = record.node_id
        if node in redo:
            seed = _again(record, linked[node], now)
        elif node in downstream:
            if node in tool_nodes:
                continue  # its agent calls it afresh
            data = _received(record.input_data, kept_pins[node])
            if not data:
                continue  # all it had came from what runs again: it comes again
            seed = _fresh(record, Status.INCOMPLETE, data)
        elif record.status == Status.COMPLETED:
            seed = _reused(record)
        else:
            seed = _fresh(record, Status.INCOMPLETE, dict(record.input_data))
        seed.id = new_id()
        seeds.append(seed)
    return seeds


def _received(input_data: dict[str, Any], pins: set[str]) -> dict[str, Any]:
    """What an execution had received on `pins`. One that ran holds its assembled input (a
    dynamic pin such as `values_#_a` merged into `values`): such a part is taken back out of it
    (list items by position)."""
    received = {}
    for pin in pins:
        if pin in input_data:
            received[pin] = input_data[pin]
            continue
        base = split_pin(pin)[0]
        part = pick(input_data[base], pin) if base != pin and base in input_data else None
        if part is not None and not is_missing(part):
            received[pin] = part
    return received


def _fresh(
    record: NodeExecutionRecord, status: Status, data: dict[str, Any]
) -> NodeExecutionRecord:
    return NodeExecutionRecord(
        id=record.id, node_id=record.node_id, sequence=record.sequence, status=status,
        input_data=data, is_new=True,
    )  # fmt: skip


def _again(record: NodeExecutionRecord, linked: set[str], now: float) -> NodeExecutionRecord:
    """A redo node's execution, queued again from its input: it ran (or was about to) when its
    input was complete; one cancelled while still collecting waits for the rest again."""
    ready = record.started_at is not None or linked <= set(record.input_data)
    seed = _fresh(record, Status.QUEUED if ready else Status.INCOMPLETE, dict(record.input_data))
    if ready:
        seed.queued_at = now
    return seed


def _reused(record: NodeExecutionRecord) -> NodeExecutionRecord:
    seed = record.snapshot()
    seed.stats = {**record.stats, "reused_from": record.id}
    seed.is_new = True
    return seed
