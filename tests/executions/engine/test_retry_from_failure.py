"""Retry from failure (SPEC §17), in the engine: a new run seeded by `retry_node_executions`
from a finished run's records runs only what failed and what depends on it; completed work is
taken as it was, not run again."""

import itertools
import time

from apps.executions.engine import Status
from apps.executions.engine.retry import retry_node_executions
from apps.graphs.blocks.library.maths import CalculatorBlock
from apps.graphs.blocks.library.text import FillTemplateBlock

from .blocks import Flaky, Recorder
from .conftest import GraphBuilder, MakeHarness, MemoryStore, assert_history_follows_spec, output

_IDS = itertools.count(1)


def _new_id() -> str:
    return f"retry-{next(_IDS)}"


def _graph(flaky: Flaky, recorder: Recorder) -> GraphBuilder:
    """a (2) ─┐
             calc (add) → sum
    b (3) ─┘    b's error → problem; a → copy → echoed"""
    g = GraphBuilder()
    g.node("a", recorder, value=2)
    g.node("b", flaky, value=3)
    g.node("calc", CalculatorBlock, operation="add")
    g.link("a", "output", "calc", "a")
    g.link("b", "output", "calc", "b")
    output(g, "sum", "sum", "calc", "result")
    output(g, "problem", "problem", "b", "error")
    output(g, "echoed", "echoed", "a", "output")
    return g


def _retry(engine: MakeHarness, graph, first: MemoryStore):
    seeds = retry_node_executions(graph, first.load(), now=time.time(), new_id=_new_id)
    store = MemoryStore()
    store.seed(seeds)
    harness = engine(graph, store)
    return harness, harness.run()


def test_only_the_failed_branch_runs_again(engine: MakeHarness) -> None:
    flaky, recorder = Flaky(1), Recorder()
    graph = _graph(flaky, recorder).build()
    first = engine(graph)
    result = first.run()
    assert result.outputs.keys() == {"problem", "echoed"}
    assert first.store.one("calc").status == Status.INCOMPLETE  # waited for b in vain

    harness, retried = _retry(engine, graph, first.store)
    assert retried.status == Status.COMPLETED
    assert retried.outputs == {"sum": [5], "echoed": [2]}  # no "problem": that came from b
    assert len(recorder.log) == 1  # a ran in the first run only
    assert len(flaky.attempts) == 2
    assert {node for node, _ in harness.charged} == {"b", "calc", "sum"}
    reused = harness.store.one("a")
    assert reused.stats["reused_from"] == first.store.one("a").id
    assert reused.outputs == [("output", 2)]
    assert_history_follows_spec(harness.store)


def test_a_node_fed_by_another_failed_node_runs_once(engine: MakeHarness) -> None:
    """b fails, and so does c, which took b's error: the retry runs b, and c only on b's new
    output, not once more on the old error."""
    flaky = Flaky(1)
    g = GraphBuilder()
    g.node("b", flaky, value=3)
    g.node("c", CalculatorBlock, operation="divide", a=6)
    g.link("b", "error", "c", "b")  # text into a number: c fails on it
    g.link("b", "output", "c", "b")
    output(g, "q", "q", "c", "result")
    graph = g.build()
    first = engine(graph)
    first.run()
    assert first.store.one("c").status == Status.FAILED
    harness, retried = _retry(engine, graph, first.store)
    assert retried.outputs == {"q": [2]}
    assert len(harness.store.of("c")) == 1


def test_a_run_that_was_stopped_resumes_what_never_ran(engine: MakeHarness) -> None:
    recorder = Recorder()
    g = GraphBuilder()
    g.node("a", recorder, value=1)
    g.node("b", Recorder(), value=2)
    output(g, "out_a", "a", "a", "output")
    output(g, "out_b", "b", "b", "output")
    graph = g.build()
    first = engine(graph)
    first.stop_requested.set()  # stopped before anything ran
    assert first.run().status == Status.CANCELLED
    assert set(first.store.statuses("a")) == {Status.CANCELLED}
    _, retried = _retry(engine, graph, first.store)
    assert retried.outputs == {"a": [1], "b": [2]}


def test_seeds_keep_the_order_of_the_first_run(engine: MakeHarness) -> None:
    graph = _graph(Flaky(1), Recorder()).build()
    first = engine(graph)
    first.run()
    seeds = retry_node_executions(graph, first.store.load(), now=time.time(), new_id=_new_id)
    assert [seed.sequence for seed in seeds] == sorted(seed.sequence for seed in seeds)
    by_node = {seed.node_id: seed for seed in seeds}
    assert by_node["b"].status == Status.QUEUED
    assert by_node["calc"].status == Status.INCOMPLETE
    assert by_node["calc"].input_data == {"a": 2}  # what a sent; b's comes again
    assert "problem" not in by_node  # fed by b alone: it comes again if b fails again
    assert all(seed.is_new for seed in seeds)


def test_a_dynamic_pin_received_from_what_is_not_run_again_is_kept(engine: MakeHarness) -> None:
    """tmpl ran in the first run on b's error with `values_#_name` from a, assembled into
    `values`; the retry takes that part back out, so tmpl runs again on b's new output."""
    recorder = Recorder()
    g = GraphBuilder()
    g.node("a", recorder, value="Ada")
    g.node("b", Flaky(1), value="Hi {{ name }}")
    g.node("tmpl", FillTemplateBlock)
    g.link("a", "output", "tmpl", "values_#_name")
    g.link("b", "output", "tmpl", "format")
    g.link("b", "error", "tmpl", "format")
    output(g, "text", "text", "tmpl", "output")
    graph = g.build()
    first = engine(graph)
    assert first.run().outputs["text"][0].startswith("The provider answered 503")
    _, retried = _retry(engine, graph, first.store)
    assert retried.outputs == {"text": ["Hi Ada"]}
    assert len(recorder.log) == 1
