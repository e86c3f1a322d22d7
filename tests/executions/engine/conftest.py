"""Harness for the engine's tests, without Django (they run with `-p no:django`).

`MemoryStore` implements the engine's own persistence port (the contract under test) and keeps
every commit so tests can assert what was persisted and in what order. `GraphBuilder` makes
engine graphs from the real block library the way the Django side does. `Harness` wires the
ports and runs a graph in the foreground or in a thread.
"""

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

import pytest

from apps.executions.engine import (
    EngineGraph,
    EngineLink,
    EngineNode,
    EngineSettings,
    NodeExecutionRecord,
    Ports,
    RunResult,
    Status,
    initial_node_executions,
    run_graph,
)
from apps.executions.engine.types import BlockRun, Runnable
from apps.graphs.blocks.base import Block
from apps.graphs.blocks.context import BlockContext, CancelToken
from apps.graphs.blocks.library.basic import AgentOutputBlock
from apps.graphs.blocks.registry import get_block

# SPEC §6: the statuses each status may be reached from.
ALLOWED_FROM: dict[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.INCOMPLETE}),
    Status.RUNNING: frozenset({Status.INCOMPLETE, Status.QUEUED}),
    Status.COMPLETED: frozenset({Status.RUNNING}),
    Status.FAILED: frozenset({Status.INCOMPLETE, Status.QUEUED, Status.RUNNING}),
    Status.CANCELLED: frozenset({Status.INCOMPLETE, Status.QUEUED, Status.RUNNING}),
    Status.TIMEOUT: frozenset({Status.QUEUED, Status.RUNNING}),
}


def wait_until(predicate: Callable[[], bool], *, timeout: float = 5.0, what: str = "") -> None:
    """Poll until `predicate()` holds; fail the test past the deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.01)


class MemoryStore:
    """The persistence port in memory: upserts snapshots and keeps every commit in order."""

    def __init__(self) -> None:
        self.records: dict[str, NodeExecutionRecord] = {}
        self.commits: list[list[NodeExecutionRecord]] = []
        self.seeded: list[NodeExecutionRecord] = []
        self._lock = threading.Lock()

    def seed(self, records: Sequence[NodeExecutionRecord]) -> None:
        """What starting a run writes before the engine runs (SPEC §6: the entry executions)."""
        with self._lock:
            for record in records:
                self.seeded.append(record.snapshot())
                self._put(record)

    def load(self) -> list[NodeExecutionRecord]:
        with self._lock:
            return [record.snapshot() for record in self.records.values()]

    def commit(self, changes: Sequence[NodeExecutionRecord]) -> None:
        with self._lock:
            self.commits.append([record.snapshot() for record in changes])
            for record in changes:
                self._put(record)

    def _put(self, record: NodeExecutionRecord) -> None:
        stored = record.snapshot()
        stored.is_new = False  # it is in the store now
        self.records[record.id] = stored

    # --- reading what was persisted -----------------------------------------------------

    def of(self, node_id: str) -> list[NodeExecutionRecord]:
        with self._lock:
            found = [record for record in self.records.values() if record.node_id == node_id]
        return sorted(found, key=lambda record: record.sequence)

    def one(self, node_id: str) -> NodeExecutionRecord:
        records = self.of(node_id)
        assert len(records) == 1, f"{node_id}: {records}"
        return records[0]

    def statuses(self, node_id: str) -> list[Status]:
        return [record.status for record in self.of(node_id)]

    def has(self, node_id: str, status: Status) -> bool:
        return status in self.statuses(node_id)

    def first_commit_with(self, predicate: Callable[[NodeExecutionRecord], bool]) -> int:
        """Index of the first commit holding a record that satisfies `predicate`; -1 if none."""
        with self._lock:
            commits = list(self.commits)
        return next(
            (index for index, commit in enumerate(commits) if any(map(predicate, commit))), -1
        )

    def histories(self) -> dict[str, list[NodeExecutionRecord]]:
        """Every persisted version of each record, seed first, in commit order."""
        with self._lock:
            versions = [*self.seeded, *(record for commit in self.commits for record in commit)]
        histories: dict[str, list[NodeExecutionRecord]] = {}
        for record in versions:
            histories.setdefault(record.id, []).append(record)
        return histories


class MemoryKeyValues:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Any] = {}

    def get(self, key: str, *, scope: str) -> Any:
        return self.values.get((scope, key))

    def set(self, key: str, value: Any, *, scope: str) -> None:
        self.values[(scope, key)] = value


class GraphBuilder:
    """Nodes from the real block library (by class) or test blocks (by instance)."""

    def __init__(self) -> None:
        self.nodes: dict[str, EngineNode] = {}
        self.static_sources: set[str] = set()
        self.links: list[EngineLink] = []

    def node(
        self,
        node_id: str,
        block: type[Block] | Runnable,
        *,
        timeout_seconds: float | None = None,
        inline: bool | None = None,
        max_attempts: int = 1,
        retriable: frozenset[str] = frozenset(),
        **defaults: Any,
    ) -> str:
        if isinstance(block, type):
            found = get_block(block.id)
            assert found is not None, block
            runnable: Runnable = found
            kind, static = found.block_type.value, found.static_output
            timeout, runs_inline = found.timeout_seconds, found.inline
        else:
            runnable, kind, static, timeout, runs_inline = block, "standard", False, 300.0, False
        self.nodes[node_id] = EngineNode(
            id=node_id,
            block=runnable,
            kind=kind,
            input_default=defaults,
            timeout_seconds=timeout if timeout_seconds is None else timeout_seconds,
            inline=runs_inline if inline is None else inline,
            max_attempts=max_attempts,
            retriable=retriable,
        )
        if static:
            self.static_sources.add(node_id)
        return node_id

    def link(
        self, source: str, source_name: str, sink: str, sink_name: str, *, static: bool = False
    ) -> None:
        # As the Django side does: links leaving a static block are static.
        is_static = static or source in self.static_sources
        self.links.append(EngineLink(source, source_name, sink, sink_name, is_static=is_static))

    def chain(self, *steps: tuple[str, str, str]) -> None:
        """Link (node, in pin, out pin) steps one after another."""
        for (source, _, out_pin), (sink, in_pin, _) in itertools.pairwise(steps):
            self.link(source, out_pin, sink, in_pin)

    def build(self) -> EngineGraph:
        return EngineGraph(nodes=tuple(self.nodes.values()), links=tuple(self.links))


_RECORD_IDS = itertools.count(1)


def _settled(node: EngineNode, record: NodeExecutionRecord) -> None:
    return None


class Harness:
    """One graph execution: a store, the ports over it, and the flags a test flips."""

    def __init__(self, graph: EngineGraph, store: MemoryStore | None = None) -> None:
        self.graph = graph
        self.store = store or MemoryStore()
        self.kv = MemoryKeyValues()
        self.stop_requested = threading.Event()
        self.refuse: Callable[[EngineNode, int], str | None] | None = None
        self.abandon_when: Callable[[MemoryStore], bool] | None = None
        # Settles finished executions (time-based prices); returns a refusal or None.
        self.settle: Callable[[EngineNode, NodeExecutionRecord], str | None] = _settled
        self.charged: list[tuple[str, dict[str, Any]]] = []
        # Which exceptions a block raises are the platform's fault (the worker's classifier).
        self.is_platform_fault: Callable[[BaseException], bool] = lambda exc: False
        self._threads: list[threading.Thread] = []

    @staticmethod
    def new_id() -> str:
        # Unique across harnesses: a resumed run shares its store with the one before.
        return f"ne-{next(_RECORD_IDS)}"

    def _charge(
        self, node: EngineNode, record: NodeExecutionRecord, data: Mapping[str, Any]
    ) -> str | None:
        self.charged.append((node.id, dict(data)))
        return self.refuse(node, len(self.charged)) if self.refuse else None

    def _block_run(self, node: EngineNode, record: NodeExecutionRecord) -> BlockRun:
        token = CancelToken()
        context = BlockContext(
            user_id="alice",
            kv=self.kv,
            http=None,  # type: ignore[arg-type]  # no block under test makes requests
            graph_exec_id="run-1",
            node_id=node.id,
            node_exec_id=record.id,
            cancel=token,
        )
        return BlockRun(context, token.cancel, stats=lambda: dict(context.stats))

    def _is_abandoned(self) -> bool:
        return self.abandon_when is not None and self.abandon_when(self.store)

    def ports(self) -> Ports:
        return Ports(
            store=self.store,
            charge=self._charge,
            block_run=self._block_run,
            is_cancelled=self.stop_requested.is_set,
            is_abandoned=self._is_abandoned,
            settle=lambda node, record: self.settle(node, record),
            new_id=self.new_id,
            is_platform_fault=lambda exc: self.is_platform_fault(exc),
        )

    def run(
        self,
        settings: EngineSettings | None = None,
        run_inputs: Mapping[str, Any] | None = None,
    ) -> RunResult:
        """Start the run (seeding its entry executions) or, with records stored, resume it."""
        if not self.store.records:
            seeds = initial_node_executions(
                self.graph, run_inputs or {}, now=time.time(), new_id=self.new_id
            )
            self.store.seed(seeds)
        return run_graph(self.graph, self.ports(), settings or EngineSettings())

    def start(
        self,
        settings: EngineSettings | None = None,
        run_inputs: Mapping[str, Any] | None = None,
    ) -> "Future[RunResult]":
        """`run` in a thread of its own, so the test can act while it runs."""
        future: Future[RunResult] = Future()

        def target() -> None:
            try:
                future.set_result(self.run(settings, run_inputs))
            except BaseException as exc:  # handed to the test through the future
                future.set_exception(exc)

        thread = threading.Thread(target=target, name="engine-under-test", daemon=True)
        self._threads.append(thread)
        thread.start()
        return future

    def close(self) -> None:
        self.stop_requested.set()
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture
def engine() -> Iterator[Callable[..., Harness]]:
    """Makes harnesses; runs left going by a failed test are stopped afterwards."""
    made: list[Harness] = []

    def make(graph: EngineGraph, store: MemoryStore | None = None) -> Harness:
        harness = Harness(graph, store)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets Stubborn blocks go at the end of the test."""
    event = threading.Event()
    yield event
    event.set()


def _reachable(status: Status) -> set[Status]:
    """Statuses reachable from `status` by SPEC §6 transitions (one commit may carry several)."""
    found: set[Status] = set()
    frontier = [status]
    while frontier:
        current = frontier.pop()
        for target, sources in ALLOWED_FROM.items():
            if current in sources and target not in found:
                found.add(target)
                frontier.append(target)
    return found


def assert_history_follows_spec(store: MemoryStore) -> None:
    """Each persisted status only moves forward along SPEC §6 transitions (a commit may batch
    several steps, e.g. queued -> completed for a quick node), a record is written no more once
    terminal (the Django store inserts a finished record's outputs with it), and terminal
    records are ended."""
    for record_id, versions in store.histories().items():
        for before, after in itertools.pairwise(versions):
            assert not before.status.is_terminal, f"{record_id} written after {before.status}"
            if before.status != after.status:
                assert after.status in _reachable(before.status), (
                    f"{record_id} ({after.node_id}): {before.status} -> {after.status}"
                )
        assert versions[-1].status.is_terminal == (versions[-1].ended_at is not None), versions[-1]


MakeHarness = Callable[..., Harness]
SERIAL = EngineSettings(max_parallel=1)


def output(g: GraphBuilder, node_id: str, name: str, source: str, pin: str) -> None:
    """An Agent Output node named `name` fed by `source`.`pin`."""
    g.node(node_id, AgentOutputBlock, name=name)
    g.link(source, pin, node_id, "value")
