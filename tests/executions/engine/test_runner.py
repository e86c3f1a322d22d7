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
    ThreadProbe,
    TokenCounter,
    YieldLoop,
)
from tests.executions.engine.conftest import (
    SERIAL,
    GraphBuilder,
    MakeHarness,
    assert_history_follows_spec,
    output,
    wait_until,
)

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


def test_it_marks_a_failure_the_platform_caused_and_settles_it(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("lost", Raiser("the disk is gone"))
    g.node("buggy", Raiser("a bug"))
    run = engine(g.build())
    run.is_platform_fault = lambda exc: "disk" in str(exc)
    settled: list[tuple[str, Status, bool]] = []

    def settle(node: Any, record: NodeExecutionRecord) -> None:
        settled.append((node.id, record.status, record.stats.get("platform_fault", False)))

    run.settle = settle

    assert run.run().status == Status.COMPLETED

    assert sorted(settled) == [("buggy", Status.FAILED, False), ("lost", Status.FAILED, True)]
    assert run.store.one("lost").stats["platform_fault"] is True
    assert "platform_fault" not in run.store.one("buggy").stats


def test_it_adds_what_a_block_reports_to_its_node_stats(engine: MakeHarness) -> None:
    g = GraphBuilder()
    g.node("llm", TokenCounter())
    run = engine(g.build())

    assert run.run().status == Status.COMPLETED

    stats = run.store.one("llm").stats
    assert stats["input_token_count"] == 7
    assert stats["llm_call_count"] == 2
    assert stats["model"] == "m2"
    assert {"cpu_time", "wall_time", "input_size", "output_size"} <= set(stats)


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


def test_it_stops_dispatching_when_settling_a_finished_node_is_refused(
    engine: MakeHarness,
) -> None:
    g = GraphBuilder()
    steps = [f"p{index}" for index in range(1, 4)]
    for node_id in steps:
        g.node(node_id, PrintBlock, text=node_id)
    g.chain(*((node_id, "text", "output") for node_id in steps))
    run = engine(g.build())
    settled: list[str] = []

    def settle(node: Any, record: NodeExecutionRecord) -> str | None:
        settled.append(node.id)
        assert record.stats["wall_time"] >= 0  # settled with what the run measured
        return INSUFFICIENT_CREDITS if node.id == "p2" else None

    run.settle = settle

    result = run.run()

    assert settled == ["p1", "p2"]
    assert result.status == Status.FAILED
    assert result.error_message == INSUFFICIENT_CREDITS
    # p2 ran and keeps its result; p3 was created by it but never dispatched.
    assert run.store.one("p2").status == Status.COMPLETED
    assert run.store.one("p3").status == Status.CANCELLED


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


def test_it_runs_inline_nodes_on_its_own_thread_and_the_rest_on_theirs(
    engine: MakeHarness,
) -> None:
    inline, threaded = ThreadProbe(), ThreadProbe()
    g = GraphBuilder()
    g.node("in", AgentInputBlock, name="x")
    g.node("fast", inline, inline=True)
    g.node("slow", threaded)
    g.chain(("in", "", "result"), ("fast", "value", "output"), ("slow", "value", "output"))
    output(g, "out", "y", "slow", "output")
    run = engine(g.build())

    result = run.run(run_inputs={"x": 1})

    assert result.status == Status.COMPLETED
    assert result.outputs == {"y": [1]}
    assert inline.threads == [threading.current_thread()]
    assert threaded.threads
    assert threaded.threads[0] is not threading.current_thread()
