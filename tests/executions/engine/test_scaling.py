"""Each step of the engine costs O(1) amortised, however long or wide the graph (issue 23).

Counted, not timed: the number of lines the engine's own code executes to run a graph, with
inline blocks and a commit per step, is the same on every run and on any machine. A scan per
step over every node or every execution (a sort of the ready nodes, a search of a node's
executions for one lacking a pin) makes the count per node grow with the graph's size; these
tests fail then, where a timing would only wobble.
"""

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from apps.executions import engine as engine_package
from apps.executions.engine import EngineGraph, EngineSettings, Status
from apps.graphs.blocks.library.basic import AgentInputBlock, AgentOutputBlock, StoreValueBlock
from apps.graphs.blocks.library.data import CreateDictBlock, ListIteratorBlock
from apps.graphs.blocks.library.timing import DelayBlock
from tests.executions.engine.conftest import GraphBuilder, MakeHarness
from tests.lines import lines_executed

ENGINE_DIR = os.path.dirname(engine_package.__file__)
# A commit per step and no waiting: the count depends on the graph alone.
STEPWISE = EngineSettings(flush_seconds=0.0, inline_flush_seconds=0.0, tick_seconds=0.001)
# Per node, a graph 4x as large may cost this much more (linear: ~1; quadratic: ~4).
GROWTH = 1.25


def chain(length: int) -> EngineGraph:
    """input → `length` Store Value nodes → output, as the benchmark's chain."""
    g = GraphBuilder()
    g.node("in", AgentInputBlock, name="x")
    previous, pin = "in", "result"
    for index in range(length):
        g.node(f"n{index}", StoreValueBlock)
        g.link(previous, pin, f"n{index}", "input")
        previous, pin = f"n{index}", "output"
    g.node("out", AgentOutputBlock, name="y")
    g.link(previous, pin, "out", "value")
    return g.build()


def fan_out(branches: int) -> EngineGraph:
    """input → `branches` parallel branches of two Store Value nodes, as the benchmark's."""
    g = GraphBuilder()
    g.node("in", AgentInputBlock, name="x")
    for index in range(branches):
        g.node(f"a{index}", StoreValueBlock)
        g.node(f"b{index}", StoreValueBlock)
        g.link("in", "result", f"a{index}", "input")
        g.link(f"a{index}", "output", f"b{index}", "input")
    return g.build()


def zipped(items: int) -> EngineGraph:
    """Two lists zipped into dicts: one node executed `items` times, each execution waiting
    for a value on each of two pins."""
    g = GraphBuilder()
    for node_id in ("xs", "ys"):
        g.node(node_id, ListIteratorBlock, inline=True, items=list(range(items)))
    g.node("pair", CreateDictBlock, inline=True)
    g.link("xs", "item", "pair", "values_#_x")
    g.link("ys", "item", "pair", "values_#_y")
    return g.build()


def lines_per_node(engine: MakeHarness, graph: EngineGraph, executions: int) -> float:
    run = engine(graph)
    with lines_executed(ENGINE_DIR) as counted:
        result = run.run(STEPWISE, {"x": 1})
    assert result.status == Status.COMPLETED
    assert result.node_count == executions
    return counted[0] / executions


def assert_linear(per_node: Callable[[int], float], small: int) -> None:
    smaller, larger = per_node(small), per_node(4 * small)
    assert larger <= GROWTH * smaller, (
        f"engine lines per node execution: {smaller:.0f} at {small}, {larger:.0f} at"
        f" {4 * small}: a step costs more as the graph grows"
    )


def test_a_chain_costs_the_same_per_node_however_long(engine: MakeHarness) -> None:
    assert_linear(lambda n: lines_per_node(engine, chain(n), n + 2), 100)


def test_a_fan_out_costs_the_same_per_node_however_wide(engine: MakeHarness) -> None:
    assert_linear(lambda n: lines_per_node(engine, fan_out(n), 2 * n + 1), 50)


def test_a_fan_out_costs_no_more_per_node_than_a_chain(engine: MakeHarness) -> None:
    wide = lines_per_node(engine, fan_out(200), 401)
    long = lines_per_node(engine, chain(400), 402)
    assert wide <= GROWTH * long, f"{wide:.0f} lines per node in a fan-out, {long:.0f} in a chain"


def test_a_node_run_many_times_costs_the_same_per_execution(engine: MakeHarness) -> None:
    assert_linear(lambda n: lines_per_node(engine, zipped(n), n + 2), 100)


def _commits_of(run_commits: list[list[Any]]) -> Counter[str]:
    """How many commits wrote each node execution."""
    return Counter(record.id for commit in run_commits for record in commit)


def test_a_burst_of_inline_nodes_writes_each_execution_once(engine: MakeHarness) -> None:
    """Width costs no second write: while only inline nodes run, changes wait for them (up to
    inline_flush_seconds) rather than committing every flush_seconds, when a fan-out's
    executions still waiting would be stored `queued` and then again done."""
    g = GraphBuilder()
    g.node("in", AgentInputBlock, name="x")
    for index in range(20):
        g.node(f"a{index}", DelayBlock, inline=True, seconds=0.005)
        g.link("in", "result", f"a{index}", "data")
    settings = {"flush_seconds": 0.002, "tick_seconds": 0.001}

    batched = engine(g.build())
    assert (
        batched.run(EngineSettings(**settings, inline_flush_seconds=30), {"x": 1}).node_count == 21
    )
    assert set(_commits_of(batched.store.commits).values()) == {1}

    stepwise = engine(g.build())  # the same burst at the threads' cadence
    assert (
        stepwise.run(EngineSettings(**settings, inline_flush_seconds=0), {"x": 1}).node_count == 21
    )
    assert max(_commits_of(stepwise.store.commits).values()) > 1


def test_a_running_block_thread_keeps_the_short_cadence(engine: MakeHarness) -> None:
    """With a block on a thread of its own running, what inline nodes did is committed after
    flush_seconds as before, not held until the thread's block ends."""
    g = GraphBuilder()
    g.node("in", AgentInputBlock, name="x")
    g.node("slow", DelayBlock, seconds=0.5)  # on a thread
    g.node("quick", StoreValueBlock)  # inline
    g.link("in", "result", "slow", "data")
    g.link("in", "result", "quick", "input")
    run = engine(g.build())

    run.run(EngineSettings(flush_seconds=0.01, inline_flush_seconds=30), {"x": 1})

    done = [
        {record.node_id for record in commit if record.status == Status.COMPLETED}
        for commit in run.store.commits
    ]
    quick = next(index for index, nodes in enumerate(done) if "quick" in nodes)
    assert "slow" not in set().union(*done[: quick + 1])
