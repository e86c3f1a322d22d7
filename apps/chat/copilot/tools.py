"""The copilot's tools (SPEC §18): what the chat's assistant may do, as OpenAI-compatible
function definitions and their implementations.

Every tool acts as the session's user through the platform's own selectors and services, so
another user's agents, runs and credentials are as invisible to the model as they are to the
API. No tool result carries a secret: credentials are listed by name, agents are read through
the export (which leaves secret pins out), runs are reported by outputs and errors only.

Two actions are never the model's to finish: a proposal is saved as an agent only by the user's
click (apps.chat.copilot.actions), and `run_agent` only asks for a run that the user confirms.
"""

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from apps.chat.models import ChatMessage, ChatSession, CopilotProposal, CopilotRun
from apps.common.exceptions import NotFound, PlatformError
from apps.executions import selectors as execution_selectors
from apps.graphs import selectors as graph_selectors
from apps.graphs.blocks.registry import get_block
from apps.graphs.compile import CREDENTIALS_METADATA_KEY, graph_spec_from_payload
from apps.graphs.models import GraphVersion
from apps.graphs.runtime import node_credentials_check
from apps.graphs.services import graph_export
from apps.graphs.shapes import GraphInSerializer
from apps.graphs.validation import graph_errors_for_run
from apps.integrations.selectors import credential_list
from apps.users.models import User

SEARCH_LIMIT = 12
# Schema keys of the blocks' pins that mean nothing to a model.
_UI_KEYS = frozenset({"advanced", "placeholder", "options"})
_OUTPUT_LIMIT = 4_000  # characters of one run output the model reads


class ToolFailed(Exception):
    """The call cannot be done as asked; the message goes back to the model as the result."""


_GRAPH_PROPERTIES: dict[str, Any] = {
    "nodes": {
        "type": "array",
        "description": "The nodes: {id (your short name for it), block_id (a block's id), "
        "label, input_default (pin name → fixed value), metadata ({} or {credentials_id})}.",
        "items": {"type": "object"},
    },
    "links": {
        "type": "array",
        "description": "The links: {source_id, source_name (an output pin), sink_id, "
        "sink_name (an input pin)}.",
        "items": {"type": "object"},
    },
}


def _function(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


DEFINITIONS = [
    _function(
        "search_blocks",
        "Find blocks (the steps an agent is made of) by words of their name or description.",
        {
            "query": {"type": "string", "description": "Words, e.g. 'rss feed' or 'email'."},
            "category": {"type": "string", "description": "Optional: AI, TEXT, DATA, …"},
        },
        ["query"],
    ),
    _function(
        "get_block_schema",
        "A block's input pins (types, defaults, which are required) and output pins.",
        {"block_id": {"type": "string"}},
        ["block_id"],
    ),
    _function("list_agents", "The user's agents: id, name, description, version.", {}, []),
    _function(
        "get_agent",
        "One of the user's agents as graph JSON (nodes and links), to change it.",
        {"agent_id": {"type": "string"}},
        ["agent_id"],
    ),
    _function(
        "list_credentials",
        "The user's stored credentials by id, name and provider (never their secrets).",
        {},
        [],
    ),
    _function(
        "validate_graph",
        "Check a drafted graph with the platform's validator: blocks, pins, link types, "
        "cycles, required inputs. Returns node_errors to fix.",
        _GRAPH_PROPERTIES,
        ["nodes", "links"],
    ),
    _function(
        "propose_graph",
        "Validate a drafted graph and, when it is valid, keep it as a proposal the user opens "
        "in the builder and saves with a click (as a new agent, or as a new version of "
        "agent_id). Nothing is saved as an agent by this call.",
        {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "agent_id": {"type": "string", "description": "Optional: the agent it changes."},
            **_GRAPH_PROPERTIES,
        },
        ["name", "nodes", "links"],
    ),
    _function(
        "run_agent",
        "Ask to run one of the user's agents with these inputs (Input node name → value). The "
        "run starts only when the user confirms it in the chat.",
        {"agent_id": {"type": "string"}, "inputs": {"type": "object"}},
        ["agent_id"],
    ),
    _function(
        "get_run_results",
        "How a run went: its status, outputs, and each failed node with its error.",
        {"run_id": {"type": "string", "description": "A run_request_id or an execution id."}},
        ["run_id"],
    ),
]


def _clean(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: _clean(value) for key, value in schema.items() if key not in _UI_KEYS}
    if isinstance(schema, list):
        return [_clean(value) for value in schema]
    return schema


@dataclass
class Outcome:
    """A tool call's result (what the model reads) and what it made for the user to see."""

    result: dict[str, Any]
    failed_validation: bool = False
    proposal: CopilotProposal | None = None
    run: CopilotRun | None = None


@dataclass
class Toolset:
    """The tools of one reply, acting as `user` in `session`."""

    user: User
    session: ChatSession
    handlers: dict[str, Callable[[dict[str, Any]], Outcome]] = field(init=False)
    # The tool message of the call being run: what a proposal or run request was made by.
    _message: ChatMessage | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.handlers = {
            "search_blocks": self.search_blocks,
            "get_block_schema": self.get_block_schema,
            "list_agents": self.list_agents,
            "get_agent": self.get_agent,
            "list_credentials": self.list_credentials,
            "validate_graph": self.validate_graph,
            "propose_graph": self.propose_graph,
            "run_agent": self.run_agent,
            "get_run_results": self.get_run_results,
        }

    def call(self, name: str, arguments_text: str, message: ChatMessage) -> Outcome:
        """Run one call; a bad call (unknown tool, arguments that are not a JSON object, a
        refusal by the platform) is an error result for the model, never an exception."""
        handler = self.handlers.get(name)
        if handler is None:
            return Outcome({"error": f"there is no tool named {name!r}"})
        try:
            arguments = json.loads(arguments_text or "{}")
        except ValueError as exc:
            return Outcome({"error": f"the arguments are not JSON: {exc}"})
        if not isinstance(arguments, dict):
            return Outcome({"error": "the arguments must be a JSON object"})
        self._message = message
        try:
            return handler(arguments)
        except ToolFailed as exc:
            return Outcome({"error": str(exc)})
        except PlatformError as exc:
            details = {"details": exc.details} if exc.details else {}
            return Outcome({"error": exc.message, **details})

    # Blocks

    def search_blocks(self, arguments: dict[str, Any]) -> Outcome:
        query = str(arguments.get("query") or "")
        category = str(arguments.get("category") or "")
        found = graph_selectors.block_list(category=category, search=query)
        if not found and len(query.split()) > 1:
            # Every word must match; failing that, any word is better than nothing.
            seen: dict[str, Any] = {}
            for word in query.split():
                for block in graph_selectors.block_list(category=category, search=word):
                    seen.setdefault(block.id, block)
            found = list(seen.values())
        return Outcome(
            {
                "blocks": [
                    {
                        "id": block.id,
                        "name": block.name,
                        "description": block.description,
                        "categories": sorted(str(c) for c in block.categories),
                    }
                    for block in found[:SEARCH_LIMIT]
                ],
                "total": len(found),
            }
        )

    def get_block_schema(self, arguments: dict[str, Any]) -> Outcome:
        block = get_block(str(arguments.get("block_id") or ""))
        if block is None:
            raise ToolFailed(f"no block {arguments.get('block_id')!r}; use search_blocks")
        return Outcome(
            {
                "id": block.id,
                "name": block.name,
                "description": block.description,
                "inputs": _clean(block.input_pins()),
                "required_inputs": sorted(block.required_inputs()),
                "outputs": _clean(block.output_pins()),
                "credentials_provider": block.credentials_provider,
            }
        )

    # The user's things

    def list_agents(self, arguments: dict[str, Any]) -> Outcome:
        versions = graph_selectors.graph_list(user=self.user)[:100]
        return Outcome(
            {
                "agents": [
                    {
                        "id": str(version.graph_id),
                        "name": version.name,
                        "description": version.description,
                        "version": version.version,
                    }
                    for version in versions
                ]
            }
        )

    def _own_version(self, agent_id: Any) -> GraphVersion:
        """The active version of one of the user's own agents (a template is not theirs to
        change or to run from here); NotFound otherwise, as for the API."""
        version = graph_selectors.graph_version_get(user=self.user, graph_id=str(agent_id or ""))
        if version.graph.user_id != self.user.pk:
            raise NotFound("Graph not found.")
        return version

    def get_agent(self, arguments: dict[str, Any]) -> Outcome:
        version = self._own_version(arguments.get("agent_id"))
        return Outcome({"id": str(version.graph_id), **graph_export(version=version)})

    def list_credentials(self, arguments: dict[str, Any]) -> Outcome:
        rows = credential_list(user=self.user).order_by("-created_at")
        return Outcome(
            {
                "credentials": [
                    {
                        "id": str(row.pk),
                        "title": row.title,
                        "provider": row.provider,
                        "type": row.credential_type,
                    }
                    for row in rows
                ]
            }
        )

    # Drafts and proposals

    def _graph_errors(self, arguments: dict[str, Any], name: str) -> tuple[Any, dict[str, Any]]:
        """(the checked payload, node_errors): the API's own shape check, then the validator
        with what a run needs (inputs aside), then each chosen credential."""
        shape = GraphInSerializer(
            data={
                "name": name or "Draft",
                "description": str(arguments.get("description") or "")[:500],
                "nodes": arguments.get("nodes") or [],
                "links": arguments.get("links") or [],
            }
        )
        if not shape.is_valid():
            return None, {"graph": {"shape": json.dumps(shape.errors)[:2000]}}
        payload = shape.validated_data
        spec = graph_spec_from_payload(payload["nodes"], payload["links"])
        errors = graph_errors_for_run(spec, {}, require_run_inputs=False)
        for node in spec.nodes:
            chosen = node.metadata.get(CREDENTIALS_METADATA_KEY)
            block = get_block(node.block_id)
            if chosen and block is not None:
                reason = node_credentials_check(
                    user_id=self.user.pk, block=block, credential_id=str(chosen)
                )
                if reason:
                    errors.setdefault(node.key, {})[CREDENTIALS_METADATA_KEY] = reason
        return payload, errors

    def validate_graph(self, arguments: dict[str, Any]) -> Outcome:
        _, errors = self._graph_errors(arguments, "Draft")
        if errors:
            return Outcome({"valid": False, "node_errors": errors}, failed_validation=True)
        return Outcome({"valid": True})

    def propose_graph(self, arguments: dict[str, Any]) -> Outcome:
        name = str(arguments.get("name") or "").strip()[:100]
        if not name:
            raise ToolFailed("a proposal needs a name")
        base = None
        if arguments.get("agent_id"):
            base = self._own_version(arguments["agent_id"]).graph
        payload, errors = self._graph_errors(arguments, name)
        if errors:
            result = {"proposed": False, "valid": False, "node_errors": errors}
            return Outcome(result, failed_validation=True)
        proposal = CopilotProposal.objects.create(
            session=self.session,
            message=self._message,
            name=name,
            description=payload["description"],
            nodes=[dict(node) for node in payload["nodes"]],
            links=[dict(link) for link in payload["links"]],
            base_graph=base,
        )
        return Outcome(
            {
                "proposed": True,
                "proposal_id": str(proposal.pk),
                "builder_url": f"{reverse('dashboard:agent-new')}?proposal={proposal.pk}",
                "saves_as": f"a new version of {base.pk}" if base else "a new agent",
                "note": "The user reviews it in the builder and saves it with a click.",
            },
            proposal=proposal,
        )

    # Runs

    def run_agent(self, arguments: dict[str, Any]) -> Outcome:
        version = self._own_version(arguments.get("agent_id"))
        inputs = arguments.get("inputs") or {}
        if not isinstance(inputs, Mapping):
            raise ToolFailed("inputs must be an object: Input node name → value")
        inputs = dict(inputs)
        # Refused now (bad inputs, missing required ones) rather than after the user's click.
        graph_selectors.runnable_version(
            user=self.user, graph_id=version.graph_id, version=version.version, inputs=inputs
        )
        run = CopilotRun.objects.create(
            session=self.session,
            message=self._message,
            graph_id=version.graph_id,
            graph_version=version.version,
            graph_name=version.name,
            inputs=inputs,
        )
        return Outcome(
            {
                "run_request_id": str(run.pk),
                "status": "awaiting_confirmation",
                "note": "Nothing runs until the user confirms in the chat; tell them so.",
            },
            run=run,
        )

    def get_run_results(self, arguments: dict[str, Any]) -> Outcome:
        run_id = str(arguments.get("run_id") or "")
        try:
            key = uuid.UUID(run_id)
        except ValueError:
            raise ToolFailed("run_id must be a run_request_id or an execution id") from None
        request = CopilotRun.objects.filter(pk=key, session__user=self.user).first()
        if request is not None and request.execution_id is None:
            return Outcome(
                {
                    "run_request_id": str(request.pk),
                    "status": request.status,
                    **({"error": request.error} if request.error else {}),
                    "note": "No run was started for this request."
                    if request.status != CopilotRun.Status.PENDING
                    else "The user has not confirmed this run yet.",
                }
            )
        # A request without an execution returned above; the test repeats it for the checker.
        execution_id = (
            key if request is None or request.execution_id is None else request.execution_id
        )
        execution = execution_selectors.graph_execution_get_detailed(
            user=self.user, graph_exec_id=execution_id
        )
        return Outcome(run_summary(execution))


def _short(value: Any) -> Any:
    text = json.dumps(value, default=str)
    return value if len(text) <= _OUTPUT_LIMIT else text[:_OUTPUT_LIMIT] + " …(cut)"


def run_summary(execution: Any) -> dict[str, Any]:
    """A run as the model (and the user) reads it: status, outputs, and the nodes that failed
    or reported an error, with the error. Inputs are left out: a node's input may hold what
    its user typed as a secret."""
    failed = []
    for node_execution in execution.node_executions.all():
        errors = [row.value for row in node_execution.outputs.all() if row.pin == "error"]
        if node_execution.status == "failed" or errors:
            block = get_block(node_execution.node.block_id)
            failed.append(
                {
                    "node_id": node_execution.node.key,
                    "label": node_execution.node.label,
                    "block": block.name if block else node_execution.node.block_id,
                    "status": node_execution.status,
                    "error": node_execution.error or (str(errors[0]) if errors else ""),
                }
            )
    return {
        "execution_id": str(execution.pk),
        "status": execution.status,
        "outputs": _short(execution.outputs),
        "failed_nodes": failed,
        "error": execution.error_message,
    }
