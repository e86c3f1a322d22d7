"""What the web side and the worker share of a run: graphs' compiled versions (RunnableGraph)
mapped onto the engine's EngineGraph (once per process), their store, the stop flag in Redis and
the credits a run spends. The run's own ports are apps.executions.worker.ports."""

import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from apps.common.redis import get_redis
from apps.credits.services import Budget, credit_apply
from apps.executions import metrics
from apps.executions.engine import EngineGraph, EngineLink, EngineNode
from apps.executions.models import GraphExecution
from apps.executions.store import DatabaseStore
from apps.graphs.runnable import RunnableGraph, compiled_version

CANCEL_KEY = "autogpt:cancel:{}"
CANCEL_KEY_TTL = 86_400


def engine_graph(runnable: RunnableGraph) -> EngineGraph:
    """The graph as the engine runs it: graphs compiles a version (RunnableGraph, see
    apps.graphs.runnable), executions maps it onto the engine's types, once per process."""
    return _engine_graph(runnable.graph_id, runnable.version)


@lru_cache(maxsize=512)
def _engine_graph(graph_id: uuid.UUID, version: int) -> EngineGraph:
    runnable = compiled_version(graph_id, version)
    nodes = tuple(
        EngineNode(
            id=node.id,
            block=node.block,
            kind=node.kind,
            input_default=node.input_default,
            timeout_seconds=node.timeout_seconds,
            inline=node.inline,
            label=node.label,
            description=node.description,
            input_schema=node.input_schema,
            max_attempts=node.max_attempts,
            retriable=node.retriable,
        )
        for node in runnable.nodes
    )
    links = tuple(
        EngineLink(
            source_id=link.source_id,
            source_name=link.source_name,
            sink_id=link.sink_id,
            sink_name=link.sink_name,
            is_static=link.is_static,
        )
        for link in runnable.links
    )
    return EngineGraph(nodes=nodes, links=links)


def database_store(
    execution: GraphExecution, runnable: RunnableGraph, *, relaxed: bool = False
) -> DatabaseStore:
    return DatabaseStore(execution, runnable.rows, relaxed=relaxed)


def request_cancel(graph_exec_id: uuid.UUID | str) -> None:
    get_redis().set(CANCEL_KEY.format(graph_exec_id), "1", ex=CANCEL_KEY_TTL)


def charge_usage(
    *,
    user_id: uuid.UUID | str,
    amount: int,
    key: str,
    description: str,
    graph_exec_id: uuid.UUID | None = None,
    metadata: dict[str, Any] | None = None,
    budgets: Sequence[Budget] = (),
) -> None:
    """A USAGE entry (raises InsufficientCredits, or BudgetExceeded past one of `budgets`) and
    the credits-spent metric."""
    credit_apply(
        user_id=user_id,
        amount=-amount,
        type="USAGE",
        transaction_key=key,
        graph_exec_id=graph_exec_id,
        description=description,
        metadata=metadata or {},
        budgets=budgets,
    )
    metrics.CREDITS_SPENT.inc(amount)
