"""Test-only blocks for behaviours the library lacks. They satisfy `engine.types.Runnable` (a
name and `execute(data, context)` yielding (pin, value)) without subclassing `Block`, so the
registry never sees them."""

import random
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from apps.graphs.blocks.context import BlockContext


class Recorder:
    """Forwards `value` on `output` and logs (node id, value) of each execution as it starts."""

    name = "Recorder"

    def __init__(self, log: list[tuple[str | None, Any]] | None = None) -> None:
        self.log: list[tuple[str | None, Any]] = [] if log is None else log

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        self.log.append((context.node_id, data.get("value")))
        yield "output", data.get("value")


class Raiser:
    """Raises after yielding nothing: a block with a bug."""

    name = "Raiser"

    def __init__(self, message: str = "boom") -> None:
        self.message = message

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        if data.get("never"):
            yield "output", data["never"]
        raise RuntimeError(self.message)


class Jitter:
    """Waits a random few milliseconds, then forwards `value`: finishing order is random."""

    name = "Jitter"

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        context.sleep(random.uniform(0, 0.015))
        yield "output", data.get("value")


class Overlap:
    """Holds for `hold` seconds and tracks the most executions (of any node) inside at once."""

    name = "Overlap"

    def __init__(self, hold: float = 0.2) -> None:
        self.hold = hold
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            context.sleep(self.hold)
        finally:
            with self._lock:
                self.active -= 1
        yield "output", data.get("value")


class SleepLoop:
    """Sleeps on the cancel token in a loop, forever: stopped at its next sleep tick."""

    name = "Sleep Loop"

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        while True:
            context.sleep(0.05)
        yield "output", None  # makes this a generator; never reached


class YieldLoop:
    """Yields forever and never looks at the cancel token: stopped at its next yield."""

    name = "Yield Loop"

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        pause = threading.Event()
        count = 0
        while True:
            pause.wait(0.02)
            count += 1
            yield "output", count


class Stubborn:
    """Blocks until `release` is set, ignoring cancellation: the engine must give up on it."""

    name = "Stubborn"

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        self.release.wait(30)
        yield "output", "released"


class ThreadProbe:
    """Forwards `value` and notes the thread each execution ran on."""

    name = "Thread Probe"

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        self.threads.append(threading.current_thread())
        yield "output", data.get("value")


class TokenCounter:
    """Reports token counts twice (like an LLM block making two calls), then answers."""

    name = "TokenCounter"

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        context.add_stats(input_token_count=3, llm_call_count=1, model="m1")
        context.add_stats(input_token_count=4, llm_call_count=1, model="m2")
        yield "output", "answered"


class Flaky:
    """Fails its first `failures` executions the way a provider block does (an `error` output
    and `report_failure(kind, retry_after=…)`), then forwards `value`; counts every attempt."""

    name = "Flaky"

    def __init__(
        self, failures: int, *, kind: str = "server_error", retry_after: float | None = None
    ) -> None:
        self.failures, self.kind, self.retry_after = failures, kind, retry_after
        self.attempts: list[float] = []  # monotonic start of each attempt

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        self.attempts.append(time.monotonic())
        if len(self.attempts) <= self.failures:
            context.report_failure(self.kind, retry_after=self.retry_after)
            yield "error", f"The provider answered 503 (attempt {len(self.attempts)})."
            return
        yield "output", data.get("value")
