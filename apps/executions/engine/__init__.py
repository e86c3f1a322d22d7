"""The execution engine: plain Python, no Django, Celery, Channels or other app (SPEC §2, §6).

It runs one graph execution given a frozen graph and ports for persistence, credits, block
contexts and run control. `apps.executions` adapts those ports to the database and Redis.
"""

from apps.executions.engine.runner import initial_node_executions, run_graph
from apps.executions.engine.types import (
    EngineGraph,
    EngineLink,
    EngineNode,
    EngineSettings,
    NodeExecutionRecord,
    Ports,
    RunResult,
    Status,
)

__all__ = [
    "EngineGraph",
    "EngineLink",
    "EngineNode",
    "EngineSettings",
    "NodeExecutionRecord",
    "Ports",
    "RunResult",
    "Status",
    "initial_node_executions",
    "run_graph",
]
