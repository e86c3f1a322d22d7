"""What executions know of a graph version as a runnable thing, shared by the web side and the
worker: versions compiled into EngineGraphs (once per process), their store, the stop flag in
Redis and the credits a run spends. The run's own ports are apps.executions.worker.ports."""

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q

from apps.common.redis import get_redis
from apps.credits.services import Budget, credit_apply
from apps.executions import metrics
from apps.executions.engine import EngineGraph, EngineLink, EngineNode
from apps.executions.engine.types import RUN_INPUT_KINDS
from apps.executions.models import GraphExecution
from apps.executions.store import DatabaseStore
from apps.graphs.analysis import graph_input_schema
from apps.graphs.blocks.registry import get_block
from apps.graphs.costs import block_costs
from apps.graphs.models import GraphVersion, Node
from apps.graphs.services import graph_spec_from_version
from apps.graphs.spec import GraphSpec

logger = logging.getLogger(__name__)
KIND_AGENT = "agent"
CANCEL_KEY = "autogpt:cancel:{}"
CANCEL_KEY_TTL = 86_400


@dataclass(frozen=True)
class CompiledGraph:
    graph: EngineGraph
    spec: GraphSpec  # for run validation
    nodes: dict[str, Node]  # by key, for rows and event payloads
    name: str
    owner_id: Any  # the graph's owner's pk
    time_limit_seconds: int
    has_sub_agents: bool
    # (graph id, version or None) of each Agent Executor node whose graph is fixed in its
    # defaults: the sub-agents this graph names itself (see services._named_sub_agent)
    named_sub_agents: frozenset[tuple[str, str | None]]
    has_prices: bool  # False: no block of it can cost anything, so no ledger lookups


def sub_agent_key(graph_id: Any, graph_version: Any) -> tuple[str, str | None]:
    """An Agent Executor's (graph id, version) in one form, from its defaults or its input."""
    return str(graph_id), None if graph_version in (None, "") else str(graph_version)


@lru_cache(maxsize=512)
def compiled_graph(graph_id: uuid.UUID, version: int) -> CompiledGraph:
    """Versions never change once saved, so each process compiles one at most once."""
    row = (
        GraphVersion.objects.select_related("graph")
        .prefetch_related("nodes", "links")
        .get(graph_id=graph_id, version=version)
    )
    engine_nodes = []
    for node in row.nodes.all():
        block = get_block(node.block_id)
        defaults = dict(node.input_default)
        if node.node_type in RUN_INPUT_KINDS:
            defaults["name"] = block.run_input_name(defaults)
        engine_nodes.append(
            EngineNode(
                id=node.key,
                block=block,
                kind=node.node_type,
                input_default=defaults,
                timeout_seconds=float(
                    node.metadata.get("timeout_seconds") or block.timeout_seconds
                ),
                inline=block.inline,
                label=node.label,
                description=block.description,
                input_schema=tool_input_schema(node, block, owner_id=row.graph.user_id),
            )
        )
    spec = graph_spec_from_version(row)
    links = tuple(EngineLink(**dataclasses.asdict(link)) for link in spec.links)
    return CompiledGraph(
        graph=EngineGraph(nodes=tuple(engine_nodes), links=links),
        spec=spec,
        name=row.name,
        owner_id=row.graph.user_id,
        nodes={node.key: node for node in row.nodes.all()},
        time_limit_seconds=row.time_limit_seconds or settings.EXECUTION_TIME_LIMIT_SECONDS,
        has_sub_agents=any(node.kind == KIND_AGENT for node in engine_nodes),
        named_sub_agents=frozenset(
            sub_agent_key(node.input_default["graph_id"], node.input_default.get("graph_version"))
            for node in engine_nodes
            if node.kind == KIND_AGENT and node.input_default.get("graph_id")
        ),
        has_prices=any(block_costs(node.block) for node in engine_nodes),
    )


def tool_input_schema(node: Node, block: Any, *, owner_id: Any) -> dict[str, Any]:
    """What a node asks of a model that calls it as a tool (engine/tools.py): its block's input
    schema; for a sub-agent whose graph the node names, `inputs` is described by that graph's
    run inputs (when the graph is the owner's or a template), so the model knows what to pass."""
    schema = block.input_schema()
    graph_id = node.input_default.get("graph_id") if node.node_type == KIND_AGENT else None
    if not graph_id:
        return schema
    versions = GraphVersion.objects.filter(graph_id=graph_id).filter(
        Q(graph__user_id=owner_id) | Q(graph__is_template=True)
    )
    wanted = node.input_default.get("graph_version")
    try:
        child = (
            versions.filter(version=wanted) if wanted else versions.filter(is_active=True)
        ).first()
    except (ValueError, ValidationError):
        child = None  # a malformed id: the run says so when the tool is called
    if child is None:
        return schema
    inputs = graph_input_schema(graph_spec_from_version(child))
    inputs["description"] = f"Inputs of the agent {child.name!r}. {child.description}".strip()
    properties = {**schema["properties"], "inputs": inputs}
    return {**schema, "properties": properties}


def database_store(
    execution: GraphExecution, compiled: CompiledGraph, *, relaxed: bool = False
) -> DatabaseStore:
    return DatabaseStore(execution, compiled.nodes, relaxed=relaxed)


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
