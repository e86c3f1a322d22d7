"""Resuming runs and what reaches the store (SPEC §6 durability), through `run_graph`."""

import time
from dataclasses import replace
from typing import Any

import pytest

from apps.executions.engine import (
    EngineSettings,
    NodeExecutionRecord,
    Status,
    initial_node_executions,
    run_graph,
)
from apps.graphs.blocks.library.basic import (
    AgentInputBlock,
    PrintBlock,
)
from apps.graphs.blocks.library.data import CreateDictBlock, ListIteratorBlock
from apps.graphs.blocks.library.maths import CalculatorBlock
from apps.graphs.blocks.library.timing import DelayBlock
from tests.executions.engine.blocks import (
    Raiser,
    Recorder,
)
from tests.executions.engine.conftest import (
    SERIAL,
    GraphBuilder,
    Harness,
    MakeHarness,
    MemoryStore,
    assert_history_follows_spec,
    output,
)

# --- durability ----------------------------------------------------------------------------


def resume_graph(log: list[tuple[str | None, Any]]) -> GraphBuilder:
    recorder = Recorder(log)
    g = GraphBuilder()
    g.node("n", AgentInputBlock, name="n")
    g.node("r1", recorder)
    g.node("r2", recorder)
    g.node("wait", DelayBlock, seconds=0.5)
    g.node("r3", recorder)
    g.link("n", "result", "r1", "value")
    g.chain(("r1", "value", "output"), ("r2", "value", "output"))
    g.link("r2", "output", "wait", "data")
    g.link("wait", "output", "r3", "value")
    output(g, "out", "result", "r3", "output")
    return g


def test_it_resumes_without_rerunning_completed_nodes(engine: MakeHarness) -> None:
    uninterrupted = engine(resume_graph([]).build()).run(run_inputs={"n": 7})
    log: list[tuple[str | None, Any]] = []
    graph = resume_graph(log).build()
    first = engine(graph)
    commits_when_lost: list[int] = []

    def lease_lost(store: MemoryStore) -> bool:
        if store.has("r2", Status.COMPLETED):
            commits_when_lost.append(len(store.commits))
            return True
        return False

    first.abandon_when = lease_lost
    abandoned = first.run(run_inputs={"n": 7})

    assert abandoned.status is None
    assert len(first.store.commits) == commits_when_lost[0]  # nothing written once lost
    assert first.store.statuses("wait") == [Status.RUNNING]
    assert log == [("r1", 7), ("r2", 7)]
    running_id = first.store.one("wait").id

    resumed = engine(graph, first.store).run()

    assert log == [("r1", 7), ("r2", 7), ("r3", 7)]  # r1 and r2 not run again
    assert first.store.one("wait").id == running_id  # the same execution, run again
    assert first.store.one("wait").status == Status.COMPLETED
    assert resumed.status == Status.COMPLETED
    assert resumed.outputs == uninterrupted.outputs == {"result": [7]}
    assert resumed.node_count == uninterrupted.node_count == 6


def crashed_store() -> MemoryStore:
    """What a worker that died mid-run left: a finished input and recorder, a queued
    iterator, a running recorder and a dict sink still waiting for its `v` pin."""

    def record(sequence: int, node_id: str, status: Status, **fields: Any) -> NodeExecutionRecord:
        at = time.time() - 60
        return NodeExecutionRecord(
            id=f"old-{sequence}",
            node_id=node_id,
            sequence=sequence,
            status=status,
            queued_at=at,
            started_at=at if status in (Status.RUNNING, Status.COMPLETED) else None,
            ended_at=at if status.is_terminal else None,
            **fields,
        )

    store = MemoryStore()
    store.seed(
        [
            record(0, "n", Status.COMPLETED, input_data={"value": 7}, outputs=[("result", 7)]),
            record(1, "each", Status.QUEUED),
            record(2, "a", Status.COMPLETED, input_data={"value": 7}, outputs=[("output", 7)]),
            record(3, "pair", Status.INCOMPLETE, input_data={"values_#_s": 7}),
            record(4, "b", Status.RUNNING, input_data={"value": 7}),
        ]
    )
    return store


def crash_graph(log: list[tuple[str | None, Any]]) -> GraphBuilder:
    recorder = Recorder(log)
    g = GraphBuilder()
    g.node("n", AgentInputBlock, name="n")
    g.node("each", ListIteratorBlock, items=[1, 2])
    g.node("a", recorder)
    g.node("b", recorder)
    g.node("pair", CreateDictBlock)
    g.link("n", "result", "a", "value")
    g.link("a", "output", "b", "value")
    g.link("n", "result", "pair", "values_#_s")
    g.link("each", "item", "pair", "values_#_v")
    output(g, "out_b", "b", "b", "output")
    output(g, "out_pair", "pairs", "pair", "dictionary")
    return g


def test_it_resumes_from_what_a_crashed_worker_committed(engine: MakeHarness) -> None:
    uninterrupted = engine(crash_graph([]).build()).run(run_inputs={"n": 7})
    log: list[tuple[str | None, Any]] = []
    run = engine(crash_graph(log).build(), crashed_store())

    result = run.run()

    assert log == [("b", 7)]  # a completed before the crash; b was running
    assert run.store.one("b").id == "old-4"
    assert run.store.one("b").status == Status.COMPLETED
    # The second `v` starts a new execution that takes `s` from the static link, known only
    # from the input node's persisted outputs.
    assert result.outputs == uninterrupted.outputs
    assert result.outputs == {"b": [7], "pairs": [{"s": 7, "v": 1}, {"s": 7, "v": 2}]}
    assert result.node_count == uninterrupted.node_count


def test_it_keeps_a_resumed_running_execution_running(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("slow", DelayBlock, seconds=0.3)
    g.node("b", Recorder())
    store = MemoryStore()
    started = time.time() - 60
    store.seed(
        [
            NodeExecutionRecord(id="old-0", node_id="slow", sequence=0, status=Status.QUEUED),
            NodeExecutionRecord(
                id="old-1", node_id="b", sequence=1, status=Status.RUNNING, started_at=started
            ),
        ]
    )
    run = engine(g.build(), store)

    run.run(SERIAL)  # `slow` goes first: commits happen while `b` waits its turn

    history = [version.status for version in store.histories()["old-1"]]
    assert history[0] == Status.RUNNING
    assert history[-1] == Status.COMPLETED
    assert Status.QUEUED not in history
    assert_history_follows_spec(store)


# --- the commit contract -------------------------------------------------------------------


def test_it_commits_a_completion_with_the_executions_it_creates(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("src", PrintBlock, text=[1, 2, 3, 4, 5])
    g.node("each", ListIteratorBlock)
    g.node("print", PrintBlock)
    g.link("src", "output", "each", "items")
    g.link("each", "item", "print", "text")
    output(g, "out", "items", "print", "output")
    run = engine(g.build())

    run.run()

    store = run.store

    def completed(node_id: str) -> int:
        return store.first_commit_with(
            lambda r: r.node_id == node_id and r.status == Status.COMPLETED
        )

    def created(node_id: str) -> int:
        return store.first_commit_with(lambda r: r.node_id == node_id)

    assert completed("src") == created("each") != -1
    assert completed("each") != -1
    commit = store.commits[completed("each")]
    assert [r.input_data for r in commit if r.node_id == "print"] == [
        {"text": item} for item in (1, 2, 3, 4, 5)
    ]
    first_print = store.of("print")[0]
    assert completed(first_print.node_id) == created("out")


def test_it_marks_a_record_new_in_its_first_commit_only(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("each", ListIteratorBlock, items=["a", "b"])
    g.node("wait", DelayBlock, seconds=0.1)  # committed running, then again completed
    g.link("each", "item", "wait", "data")
    output(g, "out", "items", "wait", "output")
    run = engine(g.build())

    run.run()

    seen = {record.id for record in run.store.seeded}
    rewritten = 0
    for commit in run.store.commits:
        for record in commit:
            assert record.is_new == (record.id not in seen), record
            rewritten += record.id in seen
            seen.add(record.id)
    assert seen == set(run.store.records)
    assert rewritten >= 2  # at least the two delays' completions


@pytest.mark.parametrize(
    ("block", "defaults", "pin"),
    [
        pytest.param(PrintBlock, {}, "text", id="success"),
        pytest.param(Raiser(), {}, "value", id="raising block"),
        pytest.param(CalculatorBlock, {"operation": "divide", "b": 0}, "a", id="error pin"),
    ],
)
def test_it_persists_every_change_of_every_execution(
    engine: MakeHarness, block: Any, defaults: dict[str, Any], pin: str
) -> None:
    g = GraphBuilder()
    g.node("each", ListIteratorBlock, items=[1, 2, 3])
    g.node("step", block, **defaults)
    g.link("each", "item", "step", pin)
    output(g, "out", "out", "step", "output")
    run = engine(g.build())

    result = run.run()

    stored = run.store.load()
    assert len(stored) == 1 + 3 + len(result.outputs.get("out", []))
    assert result.node_count == len(stored)
    for record in stored:
        assert record.status in (Status.COMPLETED, Status.FAILED), record
        assert record.started_at is not None
        assert record.ended_at is not None
        assert record.started_at <= record.ended_at
        assert {"wall_time", "cpu_time", "input_size", "output_size"} <= set(record.stats)
    assert_history_follows_spec(run.store)


class _LosesTheCommitAfterCharging(MemoryStore):
    """A database that goes away once: the commit right after a charge never lands."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_next = False

    def commit(self, changes) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the database connection was terminated")
        super().commit(changes)


def test_it_charges_an_execution_lost_before_its_commit_once_on_resume() -> None:
    # The chaos suite found it: an execution charged (its ledger entry committed at once) whose
    # own row was lost with the connection came back on resume under a new id, so its charge
    # key `node:<id>` was new and the node was paid twice.
    g = GraphBuilder()
    g.node("n", AgentInputBlock, name="n")
    g.node("paid", PrintBlock)
    g.link("n", "result", "paid", "text")
    graph = g.build()
    store = _LosesTheCommitAfterCharging()
    charged: list[tuple[str, str]] = []

    def run_once() -> None:
        harness = Harness(graph, store)

        def charge(node, record, data):
            if node.id == "paid":
                charged.append((node.id, record.id))
                store.fail_next = len(charged) == 1
            return None

        ports = replace(
            harness.ports(), charge=charge, record_id=lambda node_id, k: f"run-1:{node_id}:{k}"
        )
        if not store.records:
            store.seed(
                initial_node_executions(graph, {"n": 1}, now=time.time(), new_id=harness.new_id)
            )
        run_graph(graph, ports, EngineSettings())

    with pytest.raises(ConnectionError):
        run_once()
    assert not store.has("paid", Status.COMPLETED)
    run_once()  # the resume
    assert store.has("paid", Status.COMPLETED)
    assert charged == [("paid", "run-1:paid:0"), ("paid", "run-1:paid:0")]  # one key: one charge
