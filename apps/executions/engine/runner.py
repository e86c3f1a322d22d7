"""Runs one graph execution (SPEC §6).

One coordinator thread owns all run state: it assembles inputs, dispatches ready node
executions to threads of their own, takes their results from a queue, forwards outputs along the
links and commits every change through the store port. Block threads only run blocks. Per node,
executions run one at a time in creation order, so what a node feeds downstream keeps its order
while independent nodes run side by side.

A node's outputs are forwarded when it finishes, in the same commit as its completion, so a run
resumed after a crash never sees half of a node's effects: finished nodes are not run again,
nodes that were running are run again from their persisted inputs.
"""

import contextvars
import heapq
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from apps.executions.engine.agent_calls import AgentCalls, ToolRequest
from apps.executions.engine.pins import assemble_inputs, is_missing, pick, split_pin
from apps.executions.engine.tools import agent_tools, is_tool_link
from apps.executions.engine.types import (
    KIND_NOTE,
    KIND_OUTPUT,
    RUN_INPUT_KINDS,
    BlockRun,
    EngineGraph,
    EngineLink,
    EngineNode,
    EngineSettings,
    NodeExecutionRecord,
    Ports,
    RunResult,
    Status,
)

# How long stopped blocks get to notice before they are abandoned to their threads.
CANCEL_GRACE_SECONDS = 1.0


def initial_node_executions(
    graph: EngineGraph, run_inputs: Mapping[str, Any], *, now: float, new_id: Callable[[], str]
) -> list[NodeExecutionRecord]:
    """The entry node executions of a new run: every node that waits for no link.

    Input and Webhook nodes receive their run input on the `value` pin.
    """
    linked = {link.sink_id for link in graph.links}
    records: list[NodeExecutionRecord] = []
    for node in graph.nodes:
        if node.kind == KIND_NOTE or node.id in linked:
            continue
        data: dict[str, Any] = {}
        if node.kind in RUN_INPUT_KINDS and node.input_default.get("name") in run_inputs:
            data["value"] = run_inputs[node.input_default["name"]]
        records.append(
            NodeExecutionRecord(
                id=new_id(),
                node_id=node.id,
                sequence=len(records),
                status=Status.QUEUED,
                input_data=data,
                queued_at=now,
                is_new=True,
            )
        )
    return records


@dataclass
class _Active:
    record: NodeExecutionRecord
    node: EngineNode
    block_run: BlockRun
    started: float  # monotonic
    stop: threading.Event = field(default_factory=threading.Event)


def _size(value: Any) -> int:
    return len(repr(value))


class _NodeQueue(deque[NodeExecutionRecord]):
    """One node's ready executions, FIFO; tells its owner when it stops being empty."""

    def __init__(self, owner: "_ReadyQueues", node_id: str) -> None:
        super().__init__()
        self.owner, self.node_id = owner, node_id

    def append(self, record: NodeExecutionRecord) -> None:
        super().append(record)
        if len(self) == 1:
            self.owner.offer(self.node_id, record.sequence)

    def appendleft(self, record: NodeExecutionRecord) -> None:
        super().appendleft(record)
        if len(self) == 1:
            self.owner.offer(self.node_id, record.sequence)


class _ReadyQueues(dict[str, deque[NodeExecutionRecord]]):
    """Ready executions per node, and the order dispatch offers nodes in: by the sequence of
    their oldest ready execution, from a heap, so a step costs O(log n) and not a sort of every
    ready node. A node whose queue is empty is dropped, so `any(ready.values())` stays O(1).

    Every node with ready executions is in the heap or `parked` (running, so it waits for its
    execution to end); dispatch moves it between the two."""

    def __init__(self) -> None:
        super().__init__()
        self.heap: list[tuple[int, str]] = []
        self.parked: set[str] = set()

    def __missing__(self, node_id: str) -> deque[NodeExecutionRecord]:
        queue = self[node_id] = _NodeQueue(self, node_id)
        return queue

    def offer(self, node_id: str, sequence: int) -> None:
        heapq.heappush(self.heap, (sequence, node_id))

    def take(self, node_id: str) -> NodeExecutionRecord:
        """The node's oldest ready execution; the node is parked while it has more."""
        queue = self[node_id]
        record = queue.popleft()
        if queue:
            self.parked.add(node_id)
        else:
            del self[node_id]
        return record

    def unpark(self, busy: set[str]) -> None:
        """Offer the parked nodes that no longer run, by their oldest ready execution."""
        for node_id in [node_id for node_id in self.parked if node_id not in busy]:
            self.parked.discard(node_id)
            if self.get(node_id):
                self.offer(node_id, self[node_id][0].sequence)

    def clear(self) -> None:
        super().clear()
        self.heap.clear()
        self.parked.clear()


class _Run(AgentCalls):
    def __init__(self, graph: EngineGraph, ports: Ports, settings: EngineSettings) -> None:
        self.ports = ports
        self.settings = settings
        self.nodes = {node.id: node for node in graph.nodes}
        self.links_from: dict[str, list[EngineLink]] = defaultdict(list)
        self.linked_pins: dict[str, set[str]] = defaultdict(set)
        tool_links = []
        for link in graph.links:
            if is_tool_link(link):
                tool_links.append(link)
                continue
            self.links_from[link.source_id].append(link)
            self.linked_pins[link.sink_id].add(link.sink_name)
        # Tool nodes run only when an agent calls them (engine/tools.py).
        self.tool_nodes = {link.sink_id for link in tool_links}
        self.tools_of = agent_tools(self.nodes, tool_links, self.linked_pins)
        self.tool_records = {}  # record id → (batch, index, calling agent): see AgentCalls
        self.static_values: dict[str, dict[str, Any]] = defaultdict(dict)
        self.by_node: dict[str, list[NodeExecutionRecord]] = defaultdict(list)
        self.ready = _ReadyQueues()
        # Per (sink, pin): its executions still lacking the pin, oldest first, and how many of
        # by_node[sink] were looked at for it (see _lacking); per incomplete execution: how
        # many of its linked pins it still lacks. So delivering a value is O(1) amortised.
        self.lacking: dict[tuple[str, str], deque[NodeExecutionRecord]] = defaultdict(deque)
        self.lacking_seen: dict[tuple[str, str], int] = defaultdict(int)
        self.pins_lacked: dict[str, int] = {}
        self.running: dict[str, _Active] = {}
        # Failed attempts waiting for their next one: record id → (monotonic due time, attempt).
        self.retrying: dict[str, tuple[float, _Active]] = {}
        self.messages: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.changes: dict[str, NodeExecutionRecord] = {}
        self.outputs: dict[str, list[Any]] = defaultdict(list)
        self.sequence = 0
        self.final_status: Status | None = None
        self.error_message: str | None = None
        self.dispatch_stopped = False
        self.dirty_since = 0.0

    # --- state ---------------------------------------------------------------------------

    def _changed(self, record: NodeExecutionRecord) -> None:
        if not self.changes:
            self.dirty_since = time.monotonic()
        self.changes[record.id] = record
        if record.status.is_terminal and record.id in self.tool_records:
            self._tool_call_ended(record)

    def _flush_due_in(self) -> float:
        """Seconds until pending changes must be committed (0: now)."""
        if not self.changes or not self.running or self.final_status is not None:
            return 0.0
        waits = self.settings.flush_seconds
        if not self.retrying and all(active.node.inline for active in self.running.values()):
            waits = max(waits, self.settings.inline_flush_seconds)
        return max(0.0, self.dirty_since + waits - time.monotonic())

    def _flush(self) -> None:
        if not self.changes:
            return
        snapshots = [record.snapshot() for record in self.changes.values()]
        self.ports.store.commit(snapshots)
        for record in self.changes.values():
            record.is_new = False
        self.changes.clear()

    def _add(self, record: NodeExecutionRecord) -> None:
        self.by_node[record.node_id].append(record)
        self.sequence = max(self.sequence, record.sequence + 1)
        # One that was running when its worker died runs again from its inputs; it stays
        # `running` (SPEC §6 has no way back to `queued`).
        if record.status in (Status.QUEUED, Status.RUNNING):
            self.ready[record.node_id].append(record)

    def _load(self) -> None:
        for record in sorted(self.ports.store.load(), key=lambda r: r.sequence):
            if record.node_id in self.tool_nodes and not record.status.is_terminal:
                # A call of an agent that was interrupted: the agent runs again from its start.
                record.status, record.ended_at = Status.CANCELLED, self.ports.now()
                self._changed(record)
            self._add(record)
        for node_id, records in self.by_node.items():
            for record in records:
                if record.status == Status.COMPLETED:
                    self._remember(self.nodes[node_id], record)

    def _remember(self, node: EngineNode, record: NodeExecutionRecord) -> None:
        """What a finished execution leaves behind: static link values and run outputs."""
        for link in self.links_from[node.id]:
            if not link.is_static:
                continue
            base = split_pin(link.source_name)[0]
            for pin, value in record.outputs:
                part = pick(value, link.source_name) if pin == base else None
                if pin == base and not is_missing(part):
                    self.static_values[link.sink_id][link.sink_name] = part
        if node.kind == KIND_OUTPUT:
            names = [value for pin, value in record.outputs if pin == "name"]
            name = str(names[-1]) if names else str(node.input_default.get("name") or node.id)
            self.outputs[name].extend(value for pin, value in record.outputs if pin == "output")

    # --- input assembly ------------------------------------------------------------------

    def _new_record(self, node_id: str, input_data: dict[str, Any]) -> NodeExecutionRecord:
        occurrence = len(self.by_node[node_id])  # the same after a resume: records load first
        record_id = self.ports.record_id
        record = NodeExecutionRecord(
            id=record_id(node_id, occurrence) if record_id else self.ports.new_id(),
            node_id=node_id,
            sequence=self.sequence,
            status=Status.INCOMPLETE,
            input_data=input_data,
            is_new=True,
        )
        self.sequence += 1
        self.by_node[node_id].append(record)
        return record

    def _fill(self, record: NodeExecutionRecord, pin: str, value: Any) -> None:
        fresh = pin not in record.input_data
        record.input_data[pin] = value
        self._changed(record)
        if record.status != Status.INCOMPLETE:
            return
        linked = self.linked_pins[record.node_id]
        lacked = self.pins_lacked.get(record.id)
        if lacked is None:  # its first fill: count once what it lacks
            lacked = len(linked - record.input_data.keys())
        elif fresh and pin in linked:
            lacked -= 1
        if lacked:
            self.pins_lacked[record.id] = lacked
            return
        self.pins_lacked.pop(record.id, None)
        record.status = Status.QUEUED
        record.queued_at = self.ports.now()
        self.ready[record.node_id].append(record)

    def _lacking(self, sink: str, pin: str) -> deque[NodeExecutionRecord]:
        """The executions of `sink` still incomplete and lacking `pin`, oldest first.

        Executions made since the last call are looked at once; those that got the pin or
        moved on leave from the front when met. Each execution enters once per pin, so this
        is O(1) amortised however many executions the node has."""
        key = (sink, pin)
        waiting, records = self.lacking[key], self.by_node[sink]
        for record in records[self.lacking_seen[key] :]:
            if record.status == Status.INCOMPLETE and pin not in record.input_data:
                waiting.append(record)
        self.lacking_seen[key] = len(records)
        while waiting and (waiting[0].status != Status.INCOMPLETE or pin in waiting[0].input_data):
            waiting.popleft()
        return waiting

    def _deliver(self, link: EngineLink, value: Any) -> None:
        sink, pin = link.sink_id, link.sink_name
        if self.nodes[sink].kind == KIND_NOTE:
            return
        if sink in self.tool_nodes:
            self.static_values[sink][pin] = value  # fills that pin on every later call
            return
        waiting = self._lacking(sink, pin)
        if link.is_static:
            # A static value fills every waiting execution and every later one of the sink.
            self.static_values[sink][pin] = value
            if waiting:
                for record in list(waiting):
                    if record.status == Status.INCOMPLETE and pin not in record.input_data:
                        self._fill(record, pin, value)
                waiting.clear()
                return
        elif waiting:
            # The oldest execution still lacking this pin gets it: values zip in arrival order.
            self._fill(waiting.popleft(), pin, value)
            return
        statics = {
            name: known
            for name, known in self.static_values[sink].items()
            if name in self.linked_pins[sink]
        }
        self._fill(self._new_record(sink, statics), pin, value)

    def _forward(self, node: EngineNode, outputs: Sequence[tuple[str, Any]]) -> None:
        for pin, value in outputs:
            for link in self.links_from[node.id]:
                if split_pin(link.source_name)[0] != pin:
                    continue
                part = pick(value, link.source_name)
                if not is_missing(part):
                    self._deliver(link, part)

    # --- running blocks ------------------------------------------------------------------

    def _execute(self, active: _Active, data: dict[str, Any]) -> None:
        """Run the block (on a thread of its own, or inline) and report back; never touches
        run state."""
        outputs: list[tuple[str, Any]] = []
        status, error, fault = Status.COMPLETED, None, False
        cpu_started = time.thread_time()
        try:
            for pin, value in active.node.block.execute(data, active.block_run.context):
                if active.stop.is_set():
                    status = Status.CANCELLED
                    break
                outputs.append((pin, value))
                if pin == "error":
                    status, error = Status.FAILED, str(value)
        except Exception as exc:
            if active.stop.is_set():
                status = Status.CANCELLED
            else:
                status, error = Status.FAILED, f"{type(exc).__name__}: {exc}"
                outputs.append(("error", error))  # as if yielded: stored and forwarded on `error`
                fault = self.ports.is_platform_fault(exc)
        if status == Status.COMPLETED and active.block_run.suspended():
            status = Status.REVIEW
        stats = {
            **active.block_run.stats(),
            "cpu_time": time.thread_time() - cpu_started,
            "input_size": _size(data),
            **({"platform_fault": True} if fault else {}),
        }
        self.messages.put((active.record.id, status, outputs, error, stats))

    def _dispatch(self) -> None:
        """Start ready executions, oldest first, one per node at a time, up to max_parallel.
        Each start costs O(log n) (the ready heap), not a sort of every ready node."""
        ready = self.ready
        busy = {active.node.id for active in self.running.values()}
        busy.update(active.node.id for _, active in self.retrying.values())  # waiting to retry
        ready.unpark(busy)
        while ready.heap and len(self.running) < self.settings.max_parallel:
            _, node_id = heapq.heappop(ready.heap)
            if not ready.get(node_id):
                continue  # emptied meanwhile (cancelled)
            if node_id in busy:
                ready.parked.add(node_id)
                continue
            busy.add(node_id)
            if not self._start(ready.take(node_id), self.nodes[node_id]):
                return

    def _start(self, record: NodeExecutionRecord, node: EngineNode) -> bool:
        """Charge and start one execution; False when the charge was refused (the record
        failed and dispatching stops)."""
        data = assemble_inputs(node.input_default, record.input_data)
        refusal = self.ports.charge(node, record, data)
        # From here the record shows the input the block got, defaults included; assembling
        # it again on a resume gives the same input.
        record.input_data = data
        record.started_at = self.ports.now()
        if refusal is not None:
            record.status, record.error, record.ended_at = Status.FAILED, refusal, record.started_at
            record.outputs = [("error", refusal)]
            self._changed(record)
            self.error_message = refusal
            self.dispatch_stopped = True
            return False
        record.status = Status.RUNNING
        self._changed(record)
        self._launch(record, node)
        return True

    def _launch(self, record: NodeExecutionRecord, node: EngineNode) -> None:
        """Run one attempt of a started (charged, `running`) execution on its input."""
        stop = threading.Event()
        block_run = self._block_run(node, record, stop)
        active = _Active(record, node, block_run, time.monotonic(), stop)
        self.running[record.id] = active
        if node.inline:
            self._execute(active, record.input_data)  # its result waits in the queue
        else:
            # In a copy of the run's context: what the block logs carries the run's ids.
            threading.Thread(
                target=contextvars.copy_context().run,
                args=(self._execute, active, record.input_data),
                name=f"node-{node.id}",
                daemon=True,
            ).start()

    # --- retries (SPEC §17) --------------------------------------------------------------

    def _retry_later(self, active: _Active, error: str | None, stats: dict[str, Any]) -> bool:
        """Record a failed attempt; True when another one is due later (the execution stays
        `running`, paid once), False when the failure stands."""
        record, node = active.record, active.node
        attempt = len(record.stats.get("attempts", ())) + 1
        delay = None
        if self.final_status is None and node.may_retry(attempt, stats.get("failure_kind")):
            delay = self.settings.retry_delay(attempt, stats.get("retry_after_seconds"))
        self._note_attempt(record, Status.FAILED, error, stats, delay)
        if delay is None:
            return False
        record.stats, record.error = stats, None
        self._changed(record)
        self.retrying[record.id] = (time.monotonic() + delay, active)
        return True

    @staticmethod
    def _note_attempt(
        record: NodeExecutionRecord,
        status: Status,
        error: str | None,
        stats: dict[str, Any],
        delay: float | None = None,
    ) -> None:
        """Add this attempt to `stats["attempts"]`: kept once an execution makes more than one."""
        earlier = record.stats.get("attempts", ())
        if not earlier and delay is None:
            return
        entry: dict[str, Any] = {"attempt": len(earlier) + 1, "status": status.value}
        entry["wall_time"] = stats["wall_time"]
        if status == Status.FAILED:
            entry.update(error=error, failure_kind=stats.get("failure_kind"))
            if stats.get("retry_after_seconds") is not None:
                entry["retry_after"] = stats["retry_after_seconds"]
        if delay is not None:
            entry["delay"] = round(delay, 3)
        stats["attempts"] = [*earlier, entry]

    def _retry_due(self) -> None:
        now = time.monotonic()
        for record_id, (due, active) in list(self.retrying.items()):
            if due <= now:
                del self.retrying[record_id]
                self._launch(active.record, active.node)

    def _next_retry_in(self) -> float:
        if not self.retrying:
            return self.settings.tick_seconds
        return max(0.0, min(due for due, _ in self.retrying.values()) - time.monotonic())

    def _cancel_retries(self) -> None:
        now = self.ports.now()
        for _, active in self.retrying.values():
            record = active.record
            record.status, record.ended_at = Status.CANCELLED, now
            self._changed(record)
        self.retrying.clear()

    def _finished(self, message: tuple[Any, ...]) -> None:
        record_id, status, outputs, error, stats = message
        active = self.running.pop(record_id, None)
        if active is None:
            return  # abandoned after a node timeout or a stop: its result comes too late
        record = active.record
        stats["wall_time"] = time.monotonic() - active.started
        if status == Status.FAILED and self._retry_later(active, error, stats):
            return
        if status == Status.COMPLETED:
            self._note_attempt(record, status, None, stats)
        record.status, record.outputs, record.error = status, outputs, error
        record.ended_at = None if status == Status.REVIEW else self.ports.now()
        stats["output_size"] = _size(outputs)
        record.stats = stats
        self._changed(record)
        if status in (Status.COMPLETED, Status.FAILED):
            refusal = self.ports.settle(active.node, record)
            if refusal is not None:
                self.error_message, self.dispatch_stopped = refusal, True
        self._stop_tool_calls(record.id)
        if record.id in self.tool_records or status == Status.REVIEW:
            return  # a tool call's outputs went back to its agent, not along links
        if status in (Status.COMPLETED, Status.FAILED) and self.final_status is None:
            self._forward(active.node, outputs)
            if status == Status.COMPLETED:
                self._remember(active.node, record)

    def _check_node_timeouts(self) -> None:
        now = time.monotonic()
        for record_id, active in list(self.running.items()):
            limit = active.node.timeout_seconds
            if now - active.started <= limit:
                continue
            active.stop.set()
            active.block_run.cancel()
            del self.running[record_id]
            message = f"timed out after {limit:g} s"
            record = active.record
            record.status, record.error, record.ended_at = Status.FAILED, message, self.ports.now()
            record.outputs = [("error", message)]
            self._changed(record)
            self._stop_tool_calls(record_id)
            if self.final_status is None and record_id not in self.tool_records:
                self._forward(active.node, record.outputs)  # like any failure, on `error` links

    # --- the run -------------------------------------------------------------------------

    def _stop_everything(self, status: Status, message: str) -> None:
        self.final_status, self.error_message = status, message
        for active in self.running.values():
            active.stop.set()
            active.block_run.cancel()
        self._cancel_retries()
        self._cancel_pending()

    def _cancel_pending(self) -> None:
        now = self.ports.now()
        for records in self.by_node.values():
            for record in records:
                if record.status in (Status.INCOMPLETE, Status.QUEUED, Status.REVIEW):
                    record.status, record.ended_at = Status.CANCELLED, now
                    self._changed(record)
        self.ready.clear()

    def _receive(self, message: Any) -> None:
        if isinstance(message, ToolRequest):
            self._call_tools(message)
        else:
            self._finished(message)

    def _drain(self, timeout: float) -> None:
        try:
            self._receive(self.messages.get(timeout=timeout))
            while True:
                self._receive(self.messages.get_nowait())
        except queue.Empty:
            pass

    def run(self) -> RunResult:
        started = time.monotonic()
        self._load()
        stop_deadline: float | None = None
        while True:
            if self.ports.is_abandoned():
                for active in self.running.values():
                    active.stop.set()
                    active.block_run.cancel()
                return self._result(None, started)
            if self.final_status is None:
                if self.ports.is_cancelled():
                    self._stop_everything(Status.CANCELLED, "The run was stopped.")
                elif self.settings.run_deadline and self.ports.now() > self.settings.run_deadline:
                    self._stop_everything(Status.TIMEOUT, "The run exceeded its time limit.")
                if self.final_status is not None:
                    stop_deadline = time.monotonic() + CANCEL_GRACE_SECONDS
            self._check_node_timeouts()
            self._retry_due()
            if self.final_status is None and not self.dispatch_stopped:
                self._dispatch()
            if stop_deadline is not None and time.monotonic() > stop_deadline:
                self._abandon_running()
            if self._flush_due_in() == 0.0:
                self._flush()
            idle = not any(self.ready.values()) or self.dispatch_stopped
            if not self.running and not self.retrying and (self.final_status is not None or idle):
                break
            wait = min(self.settings.tick_seconds, self._next_retry_in())
            if self.changes:
                wait = min(wait, self._flush_due_in())
            self._drain(wait)
        if self.dispatch_stopped:
            self._cancel_pending()
        self._flush()
        status = self.final_status or (Status.FAILED if self.dispatch_stopped else Status.COMPLETED)
        if status == Status.COMPLETED and self._waiting_for_review():
            status = Status.REVIEW  # nothing else can progress: the run waits, holding nothing
        return self._result(status, started)

    def _waiting_for_review(self) -> bool:
        return any(
            record.status == Status.REVIEW
            for records in self.by_node.values()
            for record in records
        )

    def _abandon_running(self) -> None:
        now = self.ports.now()
        for active in self.running.values():
            record = active.record
            record.status, record.ended_at = Status.CANCELLED, now
            self._changed(record)
        self.running.clear()

    def _result(self, status: Status | None, started: float) -> RunResult:
        ran = [
            record
            for records in self.by_node.values()
            for record in records
            if record.status in (Status.COMPLETED, Status.FAILED)
        ]
        return RunResult(
            status=status,
            outputs=dict(self.outputs),
            node_count=len(ran),
            node_error_count=sum(record.status == Status.FAILED for record in ran),
            error_message=self.error_message,
            wall_time=time.monotonic() - started,
        )


def run_graph(graph: EngineGraph, ports: Ports, settings: EngineSettings) -> RunResult:
    """Run (or resume) one graph execution to its end; see the module docstring."""
    return _Run(graph, ports, settings).run()
