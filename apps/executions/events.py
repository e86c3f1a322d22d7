"""The events of runs (SPEC §8): their groups, their messages, and the subscriptions a socket may
make to them. They leave through apps.realtime.events.publish, after the commit that makes
them true."""

from typing import Any

from apps.executions import selectors
from apps.executions.models import GraphExecution
from apps.executions.payloads import graph_execution_payload
from apps.graphs.runnable import graph_get
from apps.realtime.events import Event, message
from apps.realtime.topics import Topic, topic_register
from apps.users.models import APIKey

GRAPH_EXECUTION_EVENT = "graph_execution_event"
NODE_EXECUTION_EVENT = "node_execution_event"


def execution_group(graph_exec_id: str) -> str:
    return f"exec.{graph_exec_id}"


def graph_group(graph_id: str, user_id: str) -> str:
    """Every run of a graph by one user (runs of a shared graph by others are not theirs)."""
    return f"graph.{graph_id}.{user_id}"


def graph_execution_event(execution: GraphExecution) -> list[Event]:
    """A run's status change, to the run's own group and its graph's."""
    data = graph_execution_payload(execution)
    return [
        (group, message(GRAPH_EXECUTION_EVENT, data, group))
        for group in (
            execution_group(str(execution.id)),
            graph_group(str(execution.graph_id), str(execution.user_id)),
        )
    ]


def node_execution_events(graph_exec_id: Any, payloads: list[dict[str, Any]]) -> list[Event]:
    """Node executions' changes (apps.executions.payloads.node_execution_payload), to the run's
    group, in the order given."""
    group = execution_group(str(graph_exec_id))
    return [(group, message(NODE_EXECUTION_EVENT, payload, group)) for payload in payloads]


def _execution_group_of(user: Any, graph_exec_id: str) -> str:
    execution = selectors.graph_execution_get(user=user, graph_exec_id=graph_exec_id)
    return execution_group(str(execution.id))


def _graph_group_of(user: Any, graph_id: str) -> str:
    graph = graph_get(user=user, graph_id=graph_id)
    return graph_group(str(graph.id), str(user.pk))


def topics_register() -> None:
    """What `/ws` offers of runs (called from ExecutionsConfig.ready). The runs' events are what
    GET /api/executions/{id} answers, so an API key needs READ_GRAPH, as there."""
    topic_register(
        Topic(
            method="subscribe_graph_execution",
            key="graph_exec_id",
            permission=APIKey.Permission.READ_GRAPH,
            resolve=_execution_group_of,
            group=lambda user, graph_exec_id: execution_group(graph_exec_id),
        )
    )
    topic_register(
        Topic(
            method="subscribe_graph_executions",
            key="graph_id",
            permission=APIKey.Permission.READ_GRAPH,
            resolve=_graph_group_of,
            group=lambda user, graph_id: graph_group(graph_id, str(user.pk)),
        )
    )
