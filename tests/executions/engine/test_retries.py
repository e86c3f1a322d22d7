"""Node retries (SPEC §17): retriable failures run again after a backoff with jitter or the
provider's Retry-After, each attempt recorded on the execution, one charge per execution."""

import time

from apps.executions.engine import EngineSettings, Status
from apps.graphs.blocks.library.basic import StoreValueBlock

from .blocks import Flaky
from .conftest import GraphBuilder, MakeHarness, assert_history_follows_spec, output, wait_until

RETRIABLE = frozenset({"server_error", "rate_limited"})
# No jitter (the factor is then 0.5): attempt n waits 0.02 * 2**(n-1) * 0.5 s.
QUICK = EngineSettings(retry_base_seconds=0.02, jitter=lambda: 0.0)


def _flaky_graph(block: Flaky, *, max_attempts: int = 3) -> GraphBuilder:
    g = GraphBuilder()
    g.node("flaky", block, value="done", max_attempts=max_attempts, retriable=RETRIABLE)
    output(g, "out", "result", "flaky", "output")
    return g


def test_503_twice_then_200_completes_on_attempt_3_with_one_charge(engine: MakeHarness) -> None:
    block = Flaky(2)
    harness = engine(_flaky_graph(block).build())
    result = harness.run(QUICK)
    assert result.status == Status.COMPLETED
    assert result.outputs == {"result": ["done"]}
    assert len(block.attempts) == 3
    assert [node for node, _ in harness.charged].count("flaky") == 1
    record = harness.store.one("flaky")
    assert record.status == Status.COMPLETED
    assert record.error is None
    attempts = record.stats["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["status"] for a in attempts] == ["failed", "failed", "completed"]
    assert attempts[0]["failure_kind"] == "server_error"
    assert "503 (attempt 1)" in attempts[0]["error"]
    assert [a["delay"] for a in attempts[:2]] == [0.01, 0.02]  # exponential
    assert block.attempts[2] - block.attempts[1] >= 0.02
    assert_history_follows_spec(harness.store)


def test_each_failed_attempt_is_committed_while_the_execution_stays_running(
    engine: MakeHarness,
) -> None:
    harness = engine(_flaky_graph(Flaky(1)).build())
    harness.run(QUICK)
    waiting = [
        version
        for version in harness.store.histories()[harness.store.one("flaky").id]
        if version.stats.get("attempts") and version.status == Status.RUNNING
    ]
    assert waiting
    assert waiting[0].stats["attempts"][0]["status"] == "failed"


def test_attempts_run_out_and_the_failure_stands(engine: MakeHarness) -> None:
    block = Flaky(5)
    harness = engine(_flaky_graph(block, max_attempts=3).build())
    result = harness.run(QUICK)
    assert result.status == Status.COMPLETED
    assert result.node_error_count == 1
    assert len(block.attempts) == 3
    record = harness.store.one("flaky")
    assert record.status == Status.FAILED
    assert "attempt 3" in record.error
    assert [a["attempt"] for a in record.stats["attempts"]] == [1, 2, 3]
    assert "delay" not in record.stats["attempts"][-1]
    assert [node for node, _ in harness.charged].count("flaky") == 1


def test_a_failure_no_attempt_can_cure_is_not_retried(engine: MakeHarness) -> None:
    block = Flaky(1, kind="client_error")
    harness = engine(_flaky_graph(block).build())
    harness.run(QUICK)
    assert len(block.attempts) == 1
    record = harness.store.one("flaky")
    assert record.status == Status.FAILED
    assert "attempts" not in record.stats


def test_a_node_without_a_retry_policy_fails_at_once(engine: MakeHarness) -> None:
    block = Flaky(1)
    harness = engine(_flaky_graph(block, max_attempts=1).build())
    harness.run(QUICK)
    assert len(block.attempts) == 1


def test_retry_after_is_honoured(engine: MakeHarness) -> None:
    block = Flaky(1, kind="rate_limited", retry_after=0.3)
    harness = engine(_flaky_graph(block).build())
    harness.run(QUICK)
    assert len(block.attempts) == 2
    assert block.attempts[1] - block.attempts[0] >= 0.3
    first = harness.store.one("flaky").stats["attempts"][0]
    assert first["retry_after"] == 0.3
    assert first["delay"] == 0.3


def test_a_retry_after_past_the_limit_is_not_waited(engine: MakeHarness) -> None:
    block = Flaky(1, kind="rate_limited", retry_after=3600)
    harness = engine(_flaky_graph(block).build())
    started = time.monotonic()
    harness.run(QUICK)
    assert time.monotonic() - started < 2
    assert len(block.attempts) == 1
    assert harness.store.one("flaky").status == Status.FAILED


def test_jitter_spreads_the_backoff() -> None:
    low = EngineSettings(retry_base_seconds=1, jitter=lambda: 0.0)
    high = EngineSettings(retry_base_seconds=1, jitter=lambda: 0.999)
    assert low.retry_delay(1, None) == 0.5
    assert 0.99 < high.retry_delay(1, None) < 1
    assert low.retry_delay(3, None) == 2.0
    assert low.retry_delay(20, None) == low.retry_max_seconds / 2  # capped


def test_other_branches_go_on_while_a_node_waits(engine: MakeHarness) -> None:
    block = Flaky(1)
    g = _flaky_graph(block)
    g.node("quick", StoreValueBlock, input="other")
    output(g, "out2", "other", "quick", "output")
    harness = engine(g.build())
    slow = EngineSettings(retry_base_seconds=0.6, jitter=lambda: 0.0)  # waits 0.3 s
    future = harness.start(slow)
    wait_until(lambda: harness.store.has("out2", Status.COMPLETED), what="the other branch")
    assert harness.store.one("flaky").status == Status.RUNNING
    assert future.result(timeout=5).outputs == {"result": ["done"], "other": ["other"]}


def test_a_stop_while_waiting_cancels_the_execution(engine: MakeHarness) -> None:
    block = Flaky(1)
    harness = engine(_flaky_graph(block).build())
    future = harness.start(EngineSettings(retry_base_seconds=60, jitter=lambda: 0.0))
    wait_until(lambda: len(block.attempts) == 1 and bool(harness.store.one("flaky").stats))
    started = time.monotonic()
    harness.stop_requested.set()
    result = future.result(timeout=5)
    assert time.monotonic() - started < 1
    assert result.status == Status.CANCELLED
    assert harness.store.one("flaky").status == Status.CANCELLED
    assert len(block.attempts) == 1
    assert_history_follows_spec(harness.store)


def test_a_resumed_run_counts_the_attempts_made_before(engine: MakeHarness) -> None:
    block = Flaky(2)
    graph = _flaky_graph(block).build()
    first = engine(graph)
    first.abandon_when = lambda store: bool(
        store.of("flaky") and store.of("flaky")[0].stats.get("attempts")
    )
    assert first.run(EngineSettings(retry_base_seconds=60, jitter=lambda: 0.0)).status is None
    resumed = engine(graph, first.store)
    result = resumed.run(QUICK)
    assert result.status == Status.COMPLETED
    attempts = resumed.store.one("flaky").stats["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert len(block.attempts) == 3
