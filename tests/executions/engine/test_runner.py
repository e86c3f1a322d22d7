"""The engine's run of one graph execution, rule by rule (SPEC §6), through `run_graph`."""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from apps.executions.engine import EngineSettings, NodeExecutionRecord, Status
from apps.executions.engine.runner import CANCEL_GRACE_SECONDS
from apps.executions.engine.types import INSUFFICIENT_CREDITS
from apps.graphs.blocks.library.basic import (
    AgentInputBlock,
    AgentOutputBlock,
    NoteBlock,
    PrintBlock,
    StoreValueBlock,
)
from apps.graphs.blocks.library.data import CreateDictBlock, CreateListBlock, ListIteratorBlock
from apps.graphs.blocks.library.logic import ConditionBlock
from apps.graphs.blocks.library.maths import CalculatorBlock
from apps.graphs.blocks.library.text import FillTemplateBlock
from apps.graphs.blocks.library.timing import DelayBlock
from tests.executions.engine.blocks import (
    Jitter,
    Overlap,
    Raiser,
    Recorder,
    SleepLoop,
    Stubborn,
    YieldLoop,
)
from tests.executions.engine.conftest import (
    GraphBuilder,
    Harness,
    MemoryStore,
    assert_history_follows_spec,
    wait_until,
)

MakeHarness = Callable[..., Harness]
SERIAL = EngineSettings(max_parallel=1)


def output(g: GraphBuilder, node_id: str, name: str, source: str, pin: str) -> None:
    g.node(node_id, AgentOutputBlock, name=name)
    g.link(source, pin, node_id, "value")


# --- input assembly ----------------------------------------------------------------------


def test_it_waits_for_a_linked_pin_even_when_it_has_a_default(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("early", PrintBlock, text=2)
    g.node("src", PrintBlock, text=5)
    g.node("late", DelayBlock, seconds=0.1)
    g.node("product", CalculatorBlock, operation="multiply", a=0, b=100)
    g.link("early", "output", "product", "a")
    g.link("src", "output", "late", "data")
    g.link("late", "output", "product", "b")
    output(g, "out", "product", "product", "result")
    run = engine(g.build())

    result = run.run()

    assert result.status == Status.COMPLETED
    assert "product" not in {record.node_id for record in run.store.seeded}
    # a arrived first but b was waited for; the operation comes from the unlinked default.
    assert result.outputs == {"product": [10]}
    assert run.store.one("product").started_at >= run.store.one("late").ended_at
    assert ("product", {"operation": "multiply", "a": 2, "b": 5}) in run.charged


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(("xs", "ys"), id="all x values before the y values"),
        pytest.param(("ys", "xs"), id="all y values before the x values"),
    ],
)
def test_it_zips_values_on_different_pins_in_arrival_order(
    engine: MakeHarness, order: tuple[str, str]
) -> None:
    items = {"xs": [1, 2, 3], "ys": ["a", "b", "c"]}
    g = GraphBuilder()
    for node_id in order:  # with one slot, the node declared first runs (and delivers) first
        g.node(node_id, ListIteratorBlock, items=items[node_id])
    g.node("pair", CreateDictBlock)
    g.link("xs", "item", "pair", "values_#_x")
    g.link("ys", "item", "pair", "values_#_y")
    output(g, "out", "pairs", "pair", "dictionary")
    run = engine(g.build())

    result = run.run(SERIAL)

    assert result.outputs == {"pairs": [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}, {"x": 3, "y": "c"}]}
    assert run.store.statuses("pair") == [Status.COMPLETED] * 3


def test_it_zips_values_interleaved_on_two_pins(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("each", ListIteratorBlock, items=["a", "b", "c"])
    g.node("pair", FillTemplateBlock, format="{{ index }}={{ item }}")
    g.link("each", "item", "pair", "values_#_item")
    g.link("each", "key", "pair", "values_#_index")
    output(g, "out", "pairs", "pair", "output")

    result = engine(g.build()).run()

    assert result.outputs == {"pairs": ["0=a", "1=b", "2=c"]}


def test_it_fills_every_waiting_execution_from_a_static_link(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("each", ListIteratorBlock, items=[1, 2, 3])  # runs first: one slot, declared first
    g.node("keep", StoreValueBlock, input="go", data="S")
    g.node("late", FillTemplateBlock, format="late-{{ v }}")
    g.node("pair", CreateDictBlock)
    g.link("each", "item", "pair", "values_#_a")
    g.link("keep", "output", "pair", "values_#_b")  # static: Store Value's links are
    g.link("keep", "output", "late", "values_#_v")
    g.link("late", "output", "pair", "values_#_a")  # a 4th value, after the static one
    output(g, "out", "pairs", "pair", "dictionary")
    graph = g.build()
    run = engine(graph)

    result = run.run(SERIAL)

    assert [link.is_static for link in graph.links if link.source_id == "keep"] == [True, True]
    # The three item values came before the static one (their executions are older than the
    # one `keep` created when it finished), so those executions waited for it.
    late = run.store.one("late").sequence
    assert [record.sequence < late for record in run.store.of("pair")] == [True] * 3 + [False]
    assert result.outputs == {
        "pairs": [
            {"a": 1, "b": "S"},
            {"a": 2, "b": "S"},
            {"a": 3, "b": "S"},
            {"a": "late-S", "b": "S"},
        ]
    }
    assert run.store.statuses("pair") == [Status.COMPLETED] * 4


def test_it_feeds_run_inputs_to_input_nodes(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("topic", AgentInputBlock, name="topic", default="cats")
    g.node("other", AgentInputBlock, name="other", default="dogs")
    output(g, "out_topic", "topic", "topic", "result")
    output(g, "out_other", "other", "other", "result")

    result = engine(g.build()).run(run_inputs={"topic": "otters"})

    assert result.outputs == {"topic": ["otters"], "other": ["dogs"]}


def test_it_never_runs_a_note(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("alone", NoteBlock, text="remember")
    g.node("linked", NoteBlock)
    g.node("src", PrintBlock, text="x")
    g.link("src", "output", "linked", "text")
    run = engine(g.build())

    result = run.run()

    assert run.store.of("alone") == []
    assert run.store.of("linked") == []
    assert result.node_count == 1


# --- fan-out and branching -----------------------------------------------------------------


def test_it_runs_downstream_once_per_list_item_in_order(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("each", ListIteratorBlock, items=[10, 11, 12, 13, 14])
    g.node("print", PrintBlock)
    g.link("each", "item", "print", "text")
    output(g, "out", "items", "print", "output")
    run = engine(g.build())

    result = run.run()

    assert result.outputs == {"items": [10, 11, 12, 13, 14]}
    assert [record.input_data for record in run.store.of("print")] == [
        {"text": item} for item in (10, 11, 12, 13, 14)
    ]
    assert run.store.statuses("print") == [Status.COMPLETED] * 5


@pytest.mark.parametrize(
    ("number", "taken", "not_taken", "value"),
    [(10, "yes", "no", "big"), (1, "no", "yes", "small")],
)
def test_it_never_runs_the_branch_a_condition_does_not_take(
    engine: MakeHarness, number: int, taken: str, not_taken: str, value: str
) -> None:
    g = GraphBuilder()
    g.node("n", AgentInputBlock, name="n")
    g.node("if", ConditionBlock, operator=">", value2=5, yes_value="big", no_value="small")
    g.link("n", "result", "if", "value1")
    for branch in ("yes", "no"):
        g.node(f"{branch}_print", PrintBlock)
        g.link("if", f"{branch}_output", f"{branch}_print", "text")
        output(g, f"{branch}_out", branch, f"{branch}_print", "output")
    run = engine(g.build())

    result = run.run(run_inputs={"n": number})

    assert result.status == Status.COMPLETED
    assert result.outputs == {taken: [value]}
    assert run.store.of(f"{not_taken}_print") == []
    assert run.store.of(f"{not_taken}_out") == []
    assert run.store.statuses(f"{taken}_out") == [Status.COMPLETED]


def test_it_leaves_a_node_missing_a_branch_incomplete_and_completes(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("if", ConditionBlock, value1=1, value2=1)
    g.node("both", CreateDictBlock)
    g.link("if", "result", "both", "values_#_result")
    g.link("if", "no_output", "both", "values_#_no")
    output(g, "out", "both", "both", "dictionary")
    run = engine(g.build())

    result = run.run()

    assert result.status == Status.COMPLETED
    assert result.outputs == {}
    assert run.store.one("both").status == Status.INCOMPLETE
    assert run.store.one("both").input_data == {"values_#_result": True}
    assert run.store.of("out") == []


# --- dynamic pins --------------------------------------------------------------------------


def test_it_assembles_a_list_from_numbered_pins_in_suffix_order(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("list", CreateListBlock)
    for node_id, pin in (("ten", "values_$_10"), ("two", "values_$_2"), ("zero", "values_$_0")):
        g.node(node_id, PrintBlock, text=node_id)  # one slot: they arrive in this order
        g.link(node_id, "output", "list", pin)
    output(g, "out", "list", "list", "list")

    result = engine(g.build()).run(SERIAL)

    assert result.outputs == {"list": [["zero", "two", "ten"]]}


@pytest.mark.parametrize(
    ("block", "defaults", "pin", "expected"),
    [
        pytest.param(
            CreateDictBlock,
            {"values": {"kept": 0, "a": "old"}},
            "dictionary",
            {"kept": 0, "a": "A", "b": "B"},
            id="Create Dictionary over its default",
        ),
        pytest.param(
            FillTemplateBlock, {"format": "{{ a }}+{{ b }}"}, "output", "A+B", id="Fill Template"
        ),
    ],
)
def test_it_assembles_a_dict_from_keyed_pins(
    engine: MakeHarness, block: Any, defaults: dict[str, Any], pin: str, expected: Any
) -> None:
    g = GraphBuilder()
    g.node("sink", block, **defaults)
    for key in ("a", "b"):
        g.node(key, PrintBlock, text=key.upper())
        g.link(key, "output", "sink", f"values_#_{key}")
    output(g, "out", "result", "sink", pin)

    result = engine(g.build()).run()

    assert result.outputs == {"result": [expected]}


def test_it_forwards_the_part_of_an_output_a_link_picks(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("dict", CreateDictBlock, values={"k": "v", "n": [1, 2, 3]})
    output(g, "out_k", "k", "dict", "dictionary_#_k")
    output(g, "out_missing", "missing", "dict", "dictionary_#_nope")
    g.node("numbers", PrintBlock)
    g.link("dict", "dictionary_#_n", "numbers", "text")
    output(g, "out_second", "second", "numbers", "output_$_1")
    output(g, "out_tenth", "tenth", "numbers", "output_$_9")
    run = engine(g.build())

    result = run.run()

    assert result.status == Status.COMPLETED
    assert result.outputs == {"k": ["v"], "second": [2]}
    assert run.store.one("numbers").input_data == {"text": [1, 2, 3]}
    assert run.store.of("out_missing") == []
    assert run.store.of("out_tenth") == []


# --- failures and time limits --------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "defaults", "pin", "error"),
    [
        pytest.param(Raiser("boom"), {}, "output", "RuntimeError: boom", id="block raises"),
        pytest.param(
            CalculatorBlock,
            {"operation": "divide", "a": 1, "b": 0},
            "result",
            "division by zero",
            id="block yields error",
        ),
        pytest.param(
            CalculatorBlock, {"a": "one"}, "result", "BlockInputError: a", id="invalid input"
        ),
    ],
)
def test_it_fails_only_the_node_whose_block_fails(
    engine: MakeHarness, block: Any, defaults: dict[str, Any], pin: str, error: str
) -> None:
    g = GraphBuilder()
    g.node("bad", block, **defaults)
    output(g, "out_result", "results", "bad", pin)
    output(g, "out_error", "errors", "bad", "error")
    g.node("good", PrintBlock, text="fine")
    output(g, "out_good", "good", "good", "output")
    run = engine(g.build())

    result = run.run()

    assert result.status == Status.COMPLETED
    assert result.error_message is None
    assert result.node_error_count == 1
    bad = run.store.one("bad")
    assert bad.status == Status.FAILED
    assert bad.error is not None
    assert bad.error.startswith(error)
    assert ("error", bad.error) in bad.outputs
    assert result.outputs == {"errors": [bad.error], "good": ["fine"]}
    assert run.store.of("out_result") == []


@pytest.mark.parametrize(
    ("seconds", "timeout", "status"),
    [
        pytest.param(5.0, 0.3, Status.FAILED, id="past the node's limit"),
        pytest.param(0.1, None, Status.COMPLETED, id="within the block's default limit"),
    ],
)
def test_it_fails_a_node_past_its_time_limit_and_goes_on(
    engine: MakeHarness, seconds: float, timeout: float | None, status: Status
) -> None:
    g = GraphBuilder()
    g.node("wait", DelayBlock, timeout_seconds=timeout, seconds=seconds, data="late")
    output(g, "out", "late", "wait", "output")
    g.node("other", PrintBlock, text="fine")
    output(g, "out_other", "other", "other", "output")
    run = engine(g.build())

    started = time.monotonic()
    result = run.run()
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert result.status == Status.COMPLETED
    wait = run.store.one("wait")
    assert wait.status == status
    if status == Status.FAILED:
        assert wait.error == "timed out after 0.3 s"
        assert wait.outputs == [("error", wait.error)]
        assert result.node_error_count == 1
        assert result.outputs == {"other": ["fine"]}
        assert run.store.of("out") == []
    else:
        assert result.outputs == {"late": ["late"], "other": ["fine"]}
    assert_history_follows_spec(run.store)


def test_it_ends_the_run_timeout_past_its_deadline(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("wait", DelayBlock, seconds=5)
    g.node("next", PrintBlock, text="queued behind the delay")  # one slot: it waits its turn
    run = engine(g.build())

    started = time.monotonic()
    result = run.run(EngineSettings(max_parallel=1, run_deadline=time.time() + 0.3))
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert result.status == Status.TIMEOUT
    assert result.error_message == "The run exceeded its time limit."
    assert run.store.one("wait").status == Status.CANCELLED
    assert run.store.statuses("next") == [Status.CANCELLED]  # the seeded queued one
    assert_history_follows_spec(run.store)


# --- cancellation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_block", "interrupted"),
    [
        pytest.param(lambda release: DelayBlock, True, id="Delay: at its sleep tick"),
        pytest.param(lambda release: SleepLoop(), True, id="sleeping in a loop"),
        pytest.param(lambda release: YieldLoop(), True, id="yielding in a loop: at its yield"),
        pytest.param(Stubborn, False, id="ignoring the stop: given up after the grace"),
    ],
)
def test_it_stops_a_running_block_when_the_run_is_cancelled(
    engine: MakeHarness,
    release: threading.Event,
    make_block: Callable[[threading.Event], Any],
    interrupted: bool,
) -> None:
    g = GraphBuilder()
    g.node("busy", make_block(release), seconds=30)
    g.node("after", PrintBlock)
    g.link("busy", "output", "after", "text")
    run = engine(g.build())
    future = run.start()
    wait_until(lambda: run.store.has("busy", Status.RUNNING), what="the block to run")

    stopped = time.monotonic()
    run.stop_requested.set()
    result = future.result(timeout=10)
    elapsed = time.monotonic() - stopped

    # An interrupted block reports back (with its stats) well within the grace period.
    within = CANCEL_GRACE_SECONDS * 0.8 if interrupted else CANCEL_GRACE_SECONDS + 1.0
    assert elapsed < within
    assert result.status == Status.CANCELLED
    assert result.error_message == "The run was stopped."
    busy = run.store.one("busy")
    assert busy.status == Status.CANCELLED
    assert ("wall_time" in busy.stats) == interrupted
    assert run.store.of("after") == []
    assert_history_follows_spec(run.store)


def test_it_cancels_queued_and_incomplete_work_when_stopped(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("quick", PrintBlock, text="b")  # two slots: quick and wait1 start,
    g.node("wait1", DelayBlock, seconds=30)
    g.node("wait2", DelayBlock, seconds=30)  # then wait2 once quick is done,
    g.node("last", PrintBlock, text="never")  # and last stays queued
    g.node("sink", CreateDictBlock)
    g.link("quick", "output", "sink", "values_#_b")
    g.link("wait1", "output", "sink", "values_#_a")
    run = engine(g.build())
    future = run.start(EngineSettings(max_parallel=2))
    wait_until(
        lambda: run.store.statuses("wait2") == [Status.RUNNING] and bool(run.store.of("sink")),
        what="both delays running and the sink waiting",
    )
    assert run.store.statuses("last") == [Status.QUEUED]
    assert run.store.statuses("sink") == [Status.INCOMPLETE]

    run.stop_requested.set()
    result = future.result(timeout=5)

    assert result.status == Status.CANCELLED
    assert result.node_count == 1
    assert run.store.statuses("quick") == [Status.COMPLETED]
    for node_id in ("wait1", "wait2", "last", "sink"):
        assert run.store.statuses(node_id) == [Status.CANCELLED], node_id
    assert_history_follows_spec(run.store)


# --- credits -------------------------------------------------------------------------------


def test_it_stops_dispatching_when_credits_run_out(engine: MakeHarness) -> None:
    g = GraphBuilder()
    steps = [f"p{index}" for index in range(1, 6)]
    for node_id in steps:
        g.node(node_id, PrintBlock, text=node_id)
    g.chain(*((node_id, "text", "output") for node_id in steps))
    run = engine(g.build())
    run.refuse = lambda node, count: INSUFFICIENT_CREDITS if count == 4 else None

    result = run.run()

    assert result.status == Status.FAILED
    assert result.error_message == INSUFFICIENT_CREDITS
    assert [node_id for node_id, _ in run.charged] == ["p1", "p2", "p3", "p4"]
    assert [run.store.one(node_id).status for node_id in steps[:4]] == [
        Status.COMPLETED,
        Status.COMPLETED,
        Status.COMPLETED,
        Status.FAILED,
    ]
    refused = run.store.one("p4")
    assert refused.error == INSUFFICIENT_CREDITS
    assert refused.outputs == [("error", INSUFFICIENT_CREDITS)]
    assert run.store.of("p5") == []
    assert result.node_error_count == 1
    assert_history_follows_spec(run.store)


def test_it_lets_in_flight_nodes_finish_when_credits_run_out(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("slow", DelayBlock, seconds=0.3, data="slow")
    g.node("after_slow", PrintBlock)
    g.link("slow", "output", "after_slow", "text")
    g.node("fast", PrintBlock, text="fast")
    g.node("refused", PrintBlock)
    g.link("fast", "output", "refused", "text")
    run = engine(g.build())
    run.refuse = lambda node, count: INSUFFICIENT_CREDITS if node.id == "refused" else None

    result = run.run()

    assert result.status == Status.FAILED
    assert result.error_message == INSUFFICIENT_CREDITS
    assert run.store.one("refused").status == Status.FAILED
    assert run.store.one("slow").status == Status.COMPLETED  # it was running: it finished
    assert run.store.one("after_slow").status == Status.CANCELLED  # never dispatched
    assert "after_slow" not in [node_id for node_id, _ in run.charged]
    assert_history_follows_spec(run.store)


def test_it_charges_each_execution_with_its_input_before_it_runs(engine: MakeHarness) -> None:
    log: list[tuple[str | None, Any]] = []
    recorder = Recorder(log)
    g = GraphBuilder()
    g.node("a", recorder, value=1)
    g.node("b", recorder, extra="default")
    g.link("a", "output", "b", "value")
    run = engine(g.build())
    run.refuse = lambda node, count: log.append(("charge", node.id))

    run.run()

    assert log == [("charge", "a"), ("a", 1), ("charge", "b"), ("b", 1)]
    assert run.charged == [("a", {"value": 1}), ("b", {"extra": "default", "value": 1})]


# --- parallelism ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_parallel", "at_least", "below"),
    [(2, 0.3, 0.55), (1, 0.6, 5.0)],
)
def test_it_runs_independent_nodes_concurrently_up_to_max_parallel(
    engine: MakeHarness, max_parallel: int, at_least: float, below: float
) -> None:
    g = GraphBuilder()
    g.node("left", DelayBlock, seconds=0.3)
    g.node("right", DelayBlock, seconds=0.3)
    run = engine(g.build())

    started = time.monotonic()
    result = run.run(EngineSettings(max_parallel=max_parallel))
    elapsed = time.monotonic() - started

    assert result.node_count == 2
    assert at_least <= elapsed < below


@pytest.mark.parametrize(("max_parallel", "peak"), [(1, 1), (2, 2), (8, 3)])
def test_it_never_runs_more_than_max_parallel_at_once(
    engine: MakeHarness, max_parallel: int, peak: int
) -> None:
    overlap = Overlap(hold=0.15)
    g = GraphBuilder()
    for node_id in ("a", "b", "c"):
        g.node(node_id, overlap)
    run = engine(g.build())

    result = run.run(EngineSettings(max_parallel=max_parallel))

    assert result.node_count == 3
    assert overlap.peak == peak


def test_it_keeps_each_nodes_order_across_runs(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("each", ListIteratorBlock, items=list(range(8)))
    g.node("jitter", Jitter())
    g.node("again", Jitter())
    g.link("each", "item", "jitter", "value")
    g.link("jitter", "output", "again", "value")
    output(g, "out", "order", "again", "output")
    output(g, "keys", "keys", "each", "key")
    graph = g.build()

    orders = [engine(graph).run().outputs for _ in range(3)]

    assert orders == [{"order": list(range(8)), "keys": list(range(8))}] * 3


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


# --- outputs and counts --------------------------------------------------------------------


def test_it_collects_outputs_by_name_and_counts_executions(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("each", ListIteratorBlock, items=[1, 2, 0])
    output(g, "out_items", "items", "each", "item")
    output(g, "out_keys", "keys", "each", "key")
    g.node("out_fmt", AgentOutputBlock, name="formatted", format="#{{ value }}")
    g.link("each", "item", "out_fmt", "value")
    g.node("inverse", CalculatorBlock, operation="divide", a=1)
    g.link("each", "item", "inverse", "b")
    output(g, "out_inverse", "inverse", "inverse", "result")
    run = engine(g.build())

    result = run.run()

    assert result.status == Status.COMPLETED
    assert result.outputs == {
        "items": [1, 2, 0],
        "keys": [0, 1, 2],
        "formatted": ["#1", "#2", "#0"],
        "inverse": [1.0, 0.5],
    }
    # each 1, three outputs x 3 values, inverse 3 (one failed), its output 2
    assert result.node_count == 1 + 9 + 3 + 2
    assert result.node_error_count == 1
