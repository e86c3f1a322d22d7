"""Contracts of the engine: the frozen graph it runs, the records it keeps, and its ports."""

import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Status(StrEnum):
    INCOMPLETE = "incomplete"  # a node execution still collecting its linked pins
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    # Waiting for a person (SPEC §15): a node execution parked until its review is decided, and
    # a run with nothing left to do but such waits. Neither holds a worker, lease or task.
    REVIEW = "review"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.TIMEOUT})

# Node kinds the engine treats specially (the rest run like any block).
KIND_INPUT = "input"
KIND_OUTPUT = "output"
KIND_NOTE = "note"
KIND_WEBHOOK = "webhook"
# Nodes filled from the run's inputs (by their `name`) on their `value` pin.
RUN_INPUT_KINDS = frozenset({KIND_INPUT, KIND_WEBHOOK})

INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"
BUDGET_EXCEEDED = "BUDGET_EXCEEDED"  # a charge would pass the run's max_credits (SPEC §17)


class Runnable(Protocol):
    """What the engine needs of a block: a name and a generator of (pin, value) pairs."""

    @property
    def name(self) -> str: ...  # read only: an instance's or its class's

    def execute(self, data: Mapping[str, Any], context: Any) -> Iterator[tuple[str, Any]]: ...


@dataclass(frozen=True)
class EngineNode:
    id: str
    block: Runnable
    kind: str  # "input", "output", "note", "standard", "agent", "webhook"
    input_default: Mapping[str, Any] = field(default_factory=dict)
    timeout_seconds: float = 300.0
    # Pure and instant: runs on the coordinator thread (no thread start, no time limit).
    inline: bool = False
    # How the node is described to a model when it is an AI Agent's tool (engine/tools.py).
    label: str = ""
    description: str = ""
    input_schema: Mapping[str, Any] = field(default_factory=dict)
    # Retries (SPEC §17): a failed execution whose block reported one of `retriable` failure
    # kinds (its stats' `failure_kind`) runs again from the same input, up to `max_attempts`
    # attempts in all, after a backoff (EngineSettings) or the provider's Retry-After.
    max_attempts: int = 1
    retriable: frozenset[str] = frozenset()

    def may_retry(self, attempt: int, failure_kind: Any) -> bool:
        """Whether attempt number `attempt` (from 1), failed for `failure_kind`, gets another."""
        return attempt < self.max_attempts and failure_kind in self.retriable


@dataclass(frozen=True)
class EngineLink:
    source_id: str
    source_name: str  # may carry a dynamic suffix that picks a part of the output
    sink_id: str
    sink_name: str  # may carry a dynamic suffix that assembles a list/dict/object pin
    is_static: bool = False


@dataclass(frozen=True)
class EngineGraph:
    nodes: tuple[EngineNode, ...]
    links: tuple[EngineLink, ...]


@dataclass
class NodeExecutionRecord:
    """One node execution as the store persists it. The engine mutates its own copies and hands
    the store snapshots of the ones that changed."""

    id: str
    node_id: str
    sequence: int  # creation order within the run: FIFO per node follows it
    status: Status
    input_data: dict[str, Any] = field(default_factory=dict)  # linked pins received so far
    outputs: list[tuple[str, Any]] = field(default_factory=list)  # in yield order
    error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)  # wall/cpu time, input/output size
    queued_at: float | None = None  # epoch seconds (Ports.now)
    started_at: float | None = None
    ended_at: float | None = None
    is_new: bool = False  # not yet in the store

    def snapshot(self) -> "NodeExecutionRecord":
        return NodeExecutionRecord(
            id=self.id,
            node_id=self.node_id,
            sequence=self.sequence,
            status=self.status,
            input_data=dict(self.input_data),
            outputs=list(self.outputs),
            error=self.error,
            stats=dict(self.stats),
            queued_at=self.queued_at,
            started_at=self.started_at,
            ended_at=self.ended_at,
            is_new=self.is_new,
        )


class Store(Protocol):
    def load(self) -> Sequence[NodeExecutionRecord]:
        """Every node execution of the run so far (empty on a first start)."""

    def commit(self, changes: Sequence[NodeExecutionRecord]) -> None:
        """Insert the new records and update the others in ONE transaction; then publish an
        event for each, in order. A run resumed after a crash sees exactly what was committed."""


@dataclass(frozen=True)
class BlockRun:
    """What a block execution runs with: its context and a way to interrupt it."""

    context: Any
    cancel: Callable[[], None]
    # What the block reported about its run (e.g. token counts), added to the node's stats.
    stats: Callable[[], Mapping[str, Any]] = lambda: {}
    # True when the block ended by asking for a human review: the execution then waits in
    # `review` (no outputs) and runs again, from the same input, once the review is decided.
    suspended: Callable[[], bool] = lambda: False


@dataclass(frozen=True)
class Ports:
    store: Store
    # Charge a node execution before it runs; None when allowed, else the refusal message.
    charge: Callable[[EngineNode, NodeExecutionRecord, Mapping[str, Any]], str | None]
    # Build the context for one block execution. An AI Agent's execution is called with
    # `tools=` (an engine.tools.Toolbox) too, which its context must carry as `tools`.
    block_run: Callable[..., BlockRun]
    # Polled every tick: stop requested (→ cancelled) / lease lost (→ stop without writing).
    is_cancelled: Callable[[], bool]
    is_abandoned: Callable[[], bool] = lambda: False
    # Whether what a block raised is a fault of the platform (its database, its file store…),
    # not of the block or its provider: the execution's stats then say `platform_fault`, and
    # `settle` gives its charges back (SPEC §17).
    is_platform_fault: Callable[[BaseException], bool] = lambda exc: False
    # Settle what only the finished execution can tell (time-based prices); None when paid,
    # else the refusal message, which stops dispatching like a refused charge.
    settle: Callable[[EngineNode, NodeExecutionRecord], str | None] = lambda node, record: None
    now: Callable[[], float] = time.time
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    # The id of a node's k-th execution in this run, when given: a function of (node, k), so
    # an execution lost before its first commit (worker or database gone right after its
    # charge) comes back under the same id on resume, and the charge keyed by it is not paid
    # twice. Without it, ids come from new_id.
    record_id: Callable[[str, int], str] | None = None


@dataclass(frozen=True)
class EngineSettings:
    max_parallel: int = 8  # node executions of one run running at once
    run_deadline: float | None = None  # epoch seconds; past it the run ends `timeout`
    tick_seconds: float = 0.1  # how often cancellation and time limits are checked
    # While nodes run, changes are committed together at most this long after the first of
    # them, so quick nodes share commits; when nothing runs, they are committed at once.
    flush_seconds: float = 0.02
    # While only inline nodes run (no block thread, no retry waiting), at most this long: a
    # burst of them commits once, where a shorter wait would store a wide fan-out's executions
    # `queued` and then again done, a second write and event for every one in flight.
    inline_flush_seconds: float = 0.25
    # Retry backoff: attempt n waits retry_base_seconds * 2**(n-1), at most retry_max_seconds,
    # scaled by a jitter in [0.5, 1) from `jitter` (a number in [0, 1)); a provider's
    # Retry-After is waited when longer, unless it is over retry_after_limit_seconds (then the
    # failure stands: the run should not hold a worker that long).
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 30.0
    retry_after_limit_seconds: float = 120.0
    jitter: Callable[[], float] = random.random

    def retry_delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the attempt after `attempt`; None when Retry-After is over
        the limit."""
        if retry_after is not None and retry_after > self.retry_after_limit_seconds:
            return None
        backoff = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** (attempt - 1))
        delay: float = backoff * (0.5 + self.jitter() / 2)
        return max(delay, retry_after or 0.0)


@dataclass(frozen=True)
class RunResult:
    """How the run ended. `status` is None when the run was abandoned (lease lost)."""

    status: Status | None
    outputs: dict[str, list[Any]]
    node_count: int
    node_error_count: int
    error_message: str | None = None
    wall_time: float = 0.0
