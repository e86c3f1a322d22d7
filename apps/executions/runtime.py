"""The Django side of the engine's ports: graph versions become EngineGraphs, records become
rows (one transaction per engine step, events after commit), blocks get their contexts, and the
run is controlled through Redis (cancel flags) and the lease on its row."""

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from rest_framework.fields import DateTimeField

from apps.common.exceptions import InsufficientCredits
from apps.common.redis import get_redis
from apps.credits.services import credit_apply
from apps.executions import events, metrics
from apps.executions.engine import EngineGraph, EngineLink, EngineNode, NodeExecutionRecord
from apps.executions.engine.types import INSUFFICIENT_CREDITS, RUN_INPUT_KINDS, BlockRun
from apps.executions.models import GraphExecution
from apps.executions.reviews import DatabaseReviewDesk
from apps.executions.store import DatabaseStore, jsonable
from apps.graphs.analysis import graph_input_schema
from apps.graphs.blocks.context import CancelToken, ChargeRefused
from apps.graphs.blocks.registry import get_block
from apps.graphs.costs import block_cost_amount, block_costs, block_time_charge
from apps.graphs.models import GraphVersion, Node
from apps.graphs.runtime import (
    Credentials,
    block_context_build,
    block_credentials,
    uses_own_credentials,
)
from apps.graphs.services import graph_spec_from_version
from apps.graphs.spec import GraphSpec
from apps.users.models import User

logger = logging.getLogger(__name__)
KIND_AGENT = "agent"
CANCEL_KEY = "autogpt:cancel:{}"
CANCEL_KEY_TTL = 86_400
# Redis is asked about a stop at most this often per run, not on every engine step.
CANCEL_POLL_SECONDS = 0.1


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


def graph_execution_payload(execution: GraphExecution) -> dict[str, Any]:
    """GraphExecutionSerializer's output, built directly: it is sent at every status change of
    every run, and DRF's field machinery costs more than the rest of the event (a test holds
    the two equal)."""
    when = DateTimeField().to_representation
    return {
        "id": str(execution.id),
        "graph_id": str(execution.graph_id),
        "graph_version": execution.graph_version,
        "user_id": str(execution.user_id),
        "status": execution.status,
        "inputs": jsonable(execution.inputs),
        "credentials_inputs": jsonable(execution.credentials_inputs),
        "outputs": jsonable(execution.outputs),
        "stats": jsonable(execution.stats),
        "error_message": execution.error_message,
        "has_errors": execution.has_errors,  # SPEC §17 hook
        "max_credits": execution.max_credits,  # SPEC §17 hook
        "preset_id": str(execution.preset_id) if execution.preset_id else None,
        "parent_id": str(execution.parent_id) if execution.parent_id else None,
        **{
            name: when(getattr(execution, name)) if getattr(execution, name) else None
            for name in ("created_at", "started_at", "ended_at")
        },
    }


def graph_execution_event(execution: GraphExecution) -> list[tuple[str, dict[str, Any]]]:
    data = graph_execution_payload(execution)
    return [
        (group, events.message(events.GRAPH_EXECUTION_EVENT, data, group))
        for group in (
            events.execution_group(str(execution.id)),
            events.graph_group(str(execution.graph_id), str(execution.user_id)),
        )
    ]


def database_store(
    execution: GraphExecution, compiled: CompiledGraph, *, relaxed: bool = False
) -> DatabaseStore:
    return DatabaseStore(execution, compiled.nodes, relaxed=relaxed)


def request_cancel(graph_exec_id: uuid.UUID | str) -> None:
    get_redis().set(CANCEL_KEY.format(graph_exec_id), "1", ex=CANCEL_KEY_TTL)


def cancel_poller(
    graph_exec_id: uuid.UUID, parent_cancel: CancelToken | None
) -> Callable[[], bool]:
    """is_cancelled for the engine: the run's Redis flag (any worker may have set it), or the
    parent's stop for a sub-agent run; Redis is asked at most every CANCEL_POLL_SECONDS."""
    key = CANCEL_KEY.format(graph_exec_id)
    state = {"checked": 0.0, "cancelled": False}

    def is_cancelled() -> bool:
        if parent_cancel is not None and parent_cancel.is_cancelled:
            return True
        now = time.monotonic()
        if not state["cancelled"] and now - state["checked"] >= CANCEL_POLL_SECONDS:
            state["checked"] = now
            state["cancelled"] = bool(get_redis().exists(key))
        return state["cancelled"]

    return is_cancelled


class Lease:
    """Ownership of a running execution, renewed by the engine's coordinator as it polls
    `is_lost` (every tick), so no thread is started per run.

    If a renewal finds the lease taken (this worker stalled past its expiry and another took the
    run over), the lease is lost and the engine stops without writing anything more.
    """

    def __init__(self, graph_exec_id: uuid.UUID, owner: str) -> None:
        self.graph_exec_id = graph_exec_id
        self.owner = owner
        self.seconds = settings.EXECUTION_LEASE_SECONDS
        self.lost = False
        self._renew_at = time.monotonic() + self.seconds / 3

    def expiry(self) -> datetime:
        return timezone.now() + timedelta(seconds=self.seconds)

    def is_lost(self) -> bool:
        if self.lost or time.monotonic() < self._renew_at:
            return self.lost
        self._renew_at = time.monotonic() + self.seconds / 3
        try:
            renewed = GraphExecution.objects.filter(
                pk=self.graph_exec_id,
                lease_owner=self.owner,
                status=GraphExecution.Status.RUNNING,
            ).update(lease_expires_at=self.expiry())
        except Exception:
            logger.exception("lease renewal of %s failed", self.graph_exec_id)
            renewed = 0
        self.lost = not renewed
        return self.lost


AgentRunnerFactory = Callable[[CancelToken], Any]


class RunCredentials:
    """The credentials each node of a run uses, resolved once per node so that the charge (none
    with the user's own key) and the block's context agree. Used from the engine's coordinator
    thread only."""

    def __init__(
        self,
        *,
        user_id: uuid.UUID | str,
        selection: Mapping[str, Any],
        node_choices: Mapping[str, str] | None = None,
    ) -> None:
        self.user_id, self.selection = user_id, dict(selection or {})
        # The credential saved on a node (its metadata) applies unless the run picks another.
        self.node_choices = dict(node_choices or {})
        self._by_node: dict[str, Credentials] = {}

    def for_node(self, node: EngineNode) -> Credentials:
        if node.id not in self._by_node:
            selection = self.selection
            saved = self.node_choices.get(node.id)
            if saved and node.id not in selection:
                selection = {**selection, node.id: saved}
            self._by_node[node.id] = block_credentials(
                user_id=self.user_id, block=node.block, selection=selection, node_id=node.id
            )
        return self._by_node[node.id]


class NodeMeter:
    """The Meter of one node execution (blocks.context.Meter): a further model call of an AI
    Agent pays the node's block cost again, keyed `node:<id>:<key>` so that a resumed run never
    pays a call twice; nothing with the user's own credentials."""

    def __init__(
        self, *, execution: GraphExecution, node: EngineNode, record: NodeExecutionRecord, own: bool
    ) -> None:
        self.execution, self.node, self.record, self.own = execution, node, record, own

    def charge_again(self, key: str) -> None:
        amount = block_cost_amount(self.node.block, self.record.input_data)
        if amount <= 0 or self.own:
            return
        name = compiled_graph(self.execution.graph_id, self.execution.graph_version).name
        try:
            _run_usage(
                self.execution, name, self.node, amount=amount, key=f"node:{self.record.id}:{key}"
            )
        except InsufficientCredits as exc:
            raise ChargeRefused(f"{INSUFFICIENT_CREDITS}: {exc.message}") from None


def block_run_factory(
    *,
    user: User,
    execution: GraphExecution,
    agent_runner: AgentRunnerFactory,
    credentials: RunCredentials,
) -> Callable[..., BlockRun]:
    def block_run(node: EngineNode, record: NodeExecutionRecord, tools: Any = None) -> BlockRun:
        token = CancelToken()
        selected = credentials.for_node(node)
        desk = (
            DatabaseReviewDesk(execution=execution, node_id=node.id, node_exec_id=record.id)
            if node.block.pauses
            else None
        )
        context = block_context_build(
            user=user,
            graph_id=str(execution.graph_id),
            graph_version=execution.graph_version,
            graph_exec_id=str(execution.id),
            node_id=node.id,
            node_exec_id=record.id,
            cancel=token,
            agents=agent_runner(token),
            credentials=selected,
            tools=tools,
            meter=NodeMeter(
                execution=execution,
                node=node,
                record=record,
                own=uses_own_credentials(selected),
            ),
            review=desk,
        )
        # SPEC §16: a run records which credential each node used (its id), never the secret.
        for used in context.credentials.values():
            if not used.error:
                context.stats["credential_id"] = used.id or "platform"
        return BlockRun(
            context=context,
            cancel=token.cancel,
            stats=lambda: dict(context.stats),
            suspended=lambda: desk is not None and desk.suspended,
        )

    return block_run


def charge_usage(
    *,
    user_id: uuid.UUID | str,
    amount: int,
    key: str,
    description: str,
    graph_exec_id: uuid.UUID | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """A USAGE entry (raises InsufficientCredits) and the credits-spent metric."""
    credit_apply(
        user_id=user_id,
        amount=-amount,
        type="USAGE",
        transaction_key=key,
        graph_exec_id=graph_exec_id,
        description=description,
        metadata=metadata or {},
    )
    metrics.CREDITS_SPENT.inc(amount)


def _run_usage(
    execution: GraphExecution, graph_name: str, node: EngineNode, *, amount: int, key: str
) -> None:
    charge_usage(
        user_id=execution.user_id,
        amount=amount,
        key=key,
        description=graph_name,
        graph_exec_id=execution.id,
        metadata={"node_id": node.id, "block": node.block.name},
    )


def charge_factory(
    *, execution: GraphExecution, graph_name: str, credentials: RunCredentials
) -> Callable[[EngineNode, NodeExecutionRecord, Mapping[str, Any]], str | None]:
    """The engine's credits port (SPEC §9): charge a node execution its block cost before it
    runs, as a USAGE entry keyed by the node execution id, so a resumed or redelivered run
    never pays twice. A refusal fails the node with INSUFFICIENT_CREDITS. A node that calls its
    provider with the user's own credentials pays no block cost."""

    def charge(
        node: EngineNode, record: NodeExecutionRecord, data: Mapping[str, Any]
    ) -> str | None:
        amount = block_cost_amount(node.block, data)
        if amount <= 0 or uses_own_credentials(credentials.for_node(node)):
            return None
        try:
            _run_usage(execution, graph_name, node, amount=amount, key=f"node:{record.id}")
        except InsufficientCredits as exc:
            return f"{INSUFFICIENT_CREDITS}: {exc.message}"
        return None

    return charge


def settle_factory(
    *, execution: GraphExecution, graph_name: str
) -> Callable[[EngineNode, NodeExecutionRecord], str | None]:
    """The engine's settle port: a SECOND-priced node pays its further seconds once it ended
    (key `node:<id>:time`). What the balance cannot cover is taken as far as it goes and the
    run stops dispatching, as after a refused charge."""

    def settle(node: EngineNode, record: NodeExecutionRecord) -> str | None:
        owed = block_time_charge(node.block, record.input_data, record.stats.get("wall_time", 0))
        if owed <= 0:
            return None
        key = f"node:{record.id}:time"
        try:
            _run_usage(execution, graph_name, node, amount=owed, key=key)
        except InsufficientCredits as exc:
            available = exc.details["available_credits"]
            if available > 0:
                _run_usage(execution, graph_name, node, amount=available, key=key)
            return f"{INSUFFICIENT_CREDITS}: {exc.message}"
        return None

    return settle
