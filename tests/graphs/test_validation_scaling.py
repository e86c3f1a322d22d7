"""A run's checks cost the same per node however large the graph (issue 23): the 1,000-node
chain's start spent most of its time matching every node against every link. Counted, not
timed (tests/lines.py)."""

import os
from collections.abc import Callable
from typing import Any

import pytest

from apps import graphs as graphs_package
from apps.executions.benchmark import chain_graph, fan_out_graph
from apps.graphs.compile import graph_spec_from_payload
from apps.graphs.validation import graph_errors_for_run
from tests.lines import lines_executed

GRAPHS_DIR = os.path.dirname(graphs_package.__file__)
# Per node, a graph 4x as large may cost this much more (linear: ~1; quadratic: ~4).
GROWTH = 1.25


def _lines_per_node(payload: dict[str, Any]) -> float:
    spec = graph_spec_from_payload(payload["nodes"], payload["links"])
    with lines_executed(GRAPHS_DIR) as counted:
        assert graph_errors_for_run(spec, {"x": 1}) == {}
    return counted[0] / len(payload["nodes"])


@pytest.mark.parametrize(
    ("shape", "small", "large"), [(chain_graph, 100, 400), (fan_out_graph, 50, 200)]
)
def test_the_run_checks_cost_the_same_per_node_at_four_times_the_size(
    shape: Callable[[int], dict[str, Any]], small: int, large: int
) -> None:
    per_node_small, per_node_large = _lines_per_node(shape(small)), _lines_per_node(shape(large))
    assert per_node_large <= per_node_small * GROWTH, (per_node_small, per_node_large)
