"""Prometheus metrics of runs and blocks (SPEC §13), recorded where the work happens.

Workers and web processes share one multiprocess directory (PROMETHEUS_MULTIPROC_DIR, set in
settings), so `/metrics` on any web process shows what every worker recorded.
"""

from prometheus_client import Counter, Gauge, Histogram

GRAPH_EXECUTIONS = Counter(
    "autogpt_graph_executions_total", "Graph executions that ended, by status", ["status"]
)
GRAPH_EXECUTION_DURATION = Histogram(
    "autogpt_graph_execution_duration_seconds",
    "Wall time of graph executions, from start to end",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
)
ACTIVE_EXECUTIONS = Gauge(
    "autogpt_active_executions", "Graph executions running now", multiprocess_mode="livesum"
)
BLOCK_EXECUTIONS = Counter(
    "autogpt_block_executions_total",
    "Node executions that ended, by block and status",
    ["block", "status"],
)
BLOCK_EXECUTION_DURATION = Histogram(
    "autogpt_block_execution_duration_seconds",
    "Wall time of node executions, by block",
    ["block"],
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300),
)
CREDITS_SPENT = Counter("autogpt_credits_spent_total", "Credits charged for node executions")


def record_node(*, block: str, status: str, seconds: float) -> None:
    BLOCK_EXECUTIONS.labels(block=block, status=status).inc()
    BLOCK_EXECUTION_DURATION.labels(block=block).observe(seconds)


def record_run(*, status: str, seconds: float) -> None:
    GRAPH_EXECUTIONS.labels(status=status).inc()
    GRAPH_EXECUTION_DURATION.observe(seconds)
