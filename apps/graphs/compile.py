"""Pure mappings of a graph: request payloads and version rows to a GraphSpec, a version to the
runnable form a run needs (RunnableGraph), and the shape checks of a run's inputs.

Nothing here reads or writes the database: a version arrives with its nodes and links loaded,
and whatever else a compilation needs (the tool schemas of sub-agents) is passed in.
"""

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings

from apps.common.exceptions import ValidationFailed
from apps.common.json_limits import check_json_limits
from apps.graphs.analysis import graph_cost_estimate
from apps.graphs.blocks.base import RUN_INPUT_BLOCK_TYPES, Block, BlockType
from apps.graphs.blocks.registry import get_block
from apps.graphs.costs import block_costs
from apps.graphs.models import GraphVersion, Node
from apps.graphs.spec import (
    MAX_ATTEMPTS_METADATA_KEY,
    TIMEOUT_METADATA_KEY,
    GraphSpec,
    LinkSpec,
    NodeSpec,
    split_dynamic_pin,
)

# A node's chosen credential (SPEC §16 "credentials per node"): its id in the node's metadata.
CREDENTIALS_METADATA_KEY = "credentials_id"
RUN_INPUT_MAX_DEPTH = 10
RUN_INPUT_MAX_ITEMS = 1000
# A version's own time limit is at most this; the Celery task's hard limit is set from it.
MAX_TIME_LIMIT_SECONDS = 86_400


def graph_spec_from_payload(
    nodes: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]]
) -> GraphSpec:
    """Nodes keep the ids the client gave them; a node without one gets a UUID."""
    return GraphSpec(
        nodes=tuple(
            NodeSpec(
                key=str(node.get("id") or uuid.uuid4()),
                block_id=str(node["block_id"]),
                input_default=dict(node.get("input_default") or {}),
                metadata=dict(node.get("metadata") or {}),
                label=node.get("label") or "",
            )
            for node in nodes
        ),
        links=tuple(
            LinkSpec(
                source_id=str(link["source_id"]),
                source_name=link["source_name"],
                sink_id=str(link["sink_id"]),
                sink_name=link["sink_name"],
                is_static=bool(link.get("is_static", False)),
            )
            for link in links
        ),
    )


def graph_spec_from_version(version: GraphVersion) -> GraphSpec:
    return GraphSpec(
        nodes=tuple(
            NodeSpec(
                key=node.key,
                block_id=node.block_id,
                input_default=node.input_default,
                metadata=node.metadata,
                label=node.label,
            )
            for node in version.nodes.all()
        ),
        links=tuple(
            LinkSpec(
                source_id=link.source_id,
                source_name=link.source_name,
                sink_id=link.sink_id,
                sink_name=link.sink_name,
                is_static=link.is_static,
            )
            for link in version.links.all()
        ),
    )


def graph_spec_with_fresh_ids(spec: GraphSpec) -> GraphSpec:
    """The same graph with new node ids (import and fork), links rewired to match."""
    mapping = {node.key: str(uuid.uuid4()) for node in spec.nodes}
    return GraphSpec(
        nodes=tuple(replace(node, key=mapping[node.key]) for node in spec.nodes),
        links=tuple(
            replace(
                link,
                source_id=mapping.get(link.source_id, link.source_id),
                sink_id=mapping.get(link.sink_id, link.sink_id),
            )
            for link in spec.links
        ),
    )


def graph_spec_without_credentials(spec: GraphSpec) -> GraphSpec:
    """A fork or import by someone else cannot use the author's credentials."""
    return replace(
        spec,
        nodes=tuple(
            replace(
                node,
                metadata={k: v for k, v in node.metadata.items() if k != CREDENTIALS_METADATA_KEY},
            )
            for node in spec.nodes
        ),
    )


def check_run_inputs(inputs: Any, *, what: str = "inputs") -> None:
    """A run's `inputs` (or `credentials_inputs`) are an object within the JSON limits (400)."""
    if not isinstance(inputs, dict):
        raise ValidationFailed(f"{what} must be an object.")
    check_json_limits(
        inputs, max_depth=RUN_INPUT_MAX_DEPTH, max_items=RUN_INPUT_MAX_ITEMS, what=what
    )


def sub_agent_key(graph_id: Any, graph_version: Any) -> tuple[str, str | None]:
    """An Agent Executor's (graph id, version) in one form, from its defaults or its input."""
    return str(graph_id), None if graph_version in (None, "") else str(graph_version)


@dataclass(frozen=True)
class RunnableNode:
    """One node as the engine runs it. Its fields are the engine's EngineNode's, by name, so
    the worker builds one from the other field for field (the engine knows nothing of graphs)."""

    id: str
    block: Block
    kind: str
    input_default: Mapping[str, Any]
    timeout_seconds: float
    inline: bool
    label: str
    description: str
    input_schema: Mapping[str, Any]
    max_attempts: int  # attempts at a retriable failure (SPEC §17); 1 without a retry policy
    retriable: frozenset[str]  # the FailureKinds another attempt may cure


@dataclass(frozen=True)
class RunnableGraph:
    """A saved version, compiled once for every run of it (versions never change)."""

    row: GraphVersion  # with its graph; the nodes below are its rows
    spec: GraphSpec  # for the run-time rules and the cost estimate
    nodes: tuple[RunnableNode, ...]  # in the version's order
    rows: Mapping[str, Node]  # by node key, for node execution rows and event payloads
    time_limit_seconds: int  # the version's own, else the installation's
    # (graph id, version or None) of each Agent Executor node whose graph is fixed in its
    # defaults: the sub-agents this graph names itself (their creator's access applies)
    named_sub_agents: frozenset[tuple[str, str | None]]
    has_sub_agents: bool
    has_prices: bool  # False: no block of it can cost anything, so no ledger lookups
    credential_choices: Mapping[str, str]  # node key → the credential id chosen on the node

    @property
    def graph_id(self) -> uuid.UUID:
        return self.row.graph_id

    @property
    def version(self) -> int:
        return self.row.version

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def owner_id(self) -> Any:
        return self.row.graph.user_id

    @property
    def links(self) -> tuple[LinkSpec, ...]:
        return self.spec.links

    def required_credits(self) -> int:
        """What a run is estimated to cost, at least 1 (the 402 of an empty purse says so)."""
        return max(1, graph_cost_estimate(self.spec)["total_credits"])


def _retries(block: Block, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """A node's retry settings: its block's policy, its attempts overridden by the node's
    `max_attempts` (validated on save)."""
    policy = block.retry_policy
    if policy is None:
        return {"max_attempts": 1, "retriable": frozenset()}
    attempts = metadata.get(MAX_ATTEMPTS_METADATA_KEY)
    return {
        "max_attempts": attempts if isinstance(attempts, int) else policy.max_attempts,
        "retriable": frozenset(str(kind) for kind in policy.retriable),
    }


def runnable_graph(
    row: GraphVersion, *, tool_schemas: Mapping[str, Mapping[str, Any]]
) -> RunnableGraph:
    """Compile `row` (its graph, nodes and links loaded). `tool_schemas`: by node key, the input
    schema a node shows a model that calls it as a tool, where it differs from its block's."""
    rows = list(row.nodes.all())
    spec = graph_spec_from_version(row)
    linked: dict[str, set[str]] = defaultdict(set)
    for link in spec.links:
        linked[link.sink_id].add(split_dynamic_pin(link.sink_name)[0])
    nodes = []
    for node in rows:
        block = get_block(node.block_id)
        assert block is not None, f"saved node {node.key} has unknown block {node.block_id}"
        defaults = dict(node.input_default)
        if node.node_type in RUN_INPUT_BLOCK_TYPES:
            defaults["name"] = block.run_input_name(defaults)
        nodes.append(
            RunnableNode(
                id=node.key,
                block=block,
                kind=node.node_type,
                input_default=defaults,
                timeout_seconds=float(
                    node.metadata.get(TIMEOUT_METADATA_KEY) or block.timeout_seconds
                ),
                inline=block.runs_inline(defaults, frozenset(linked[node.key])),
                label=node.label,
                description=block.description,
                input_schema=tool_schemas.get(node.key) or block.input_schema(),
                **_retries(block, node.metadata),
            )
        )
    agents = [node for node in nodes if node.kind == BlockType.AGENT]
    return RunnableGraph(
        row=row,
        spec=spec,
        nodes=tuple(nodes),
        rows={node.key: node for node in rows},
        time_limit_seconds=row.time_limit_seconds or settings.EXECUTION_TIME_LIMIT_SECONDS,
        named_sub_agents=frozenset(
            sub_agent_key(node.input_default["graph_id"], node.input_default.get("graph_version"))
            for node in agents
            if node.input_default.get("graph_id")
        ),
        has_sub_agents=bool(agents),
        has_prices=any(block_costs(node.block) for node in nodes),
        credential_choices={
            node.key: str(node.metadata[CREDENTIALS_METADATA_KEY])
            for node in rows
            if node.metadata.get(CREDENTIALS_METADATA_KEY)
        },
    )
