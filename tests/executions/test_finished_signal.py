"""`graph_execution_finished` leaves after commit when a run reaches a terminal status."""

import pytest
from rest_framework.test import APIClient

from apps.executions import services
from apps.executions.signals import graph_execution_finished
from apps.users.models import User
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db(transaction=True)


def test_stopping_a_queued_run_announces_it_once(owner: User, owner_client: APIClient) -> None:
    graph = owner_client.post("/api/graphs", echo_graph(), format="json").json()
    run = services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "x"}, enqueue=False
    )
    heard: list[dict] = []

    def listen(sender: object, **kwargs: object) -> None:
        heard.append(kwargs)

    graph_execution_finished.connect(listen)
    try:
        services.graph_execution_stop(user=owner, graph_exec_id=run.pk)
        services.graph_execution_stop(user=owner, graph_exec_id=run.pk)  # already final
    finally:
        graph_execution_finished.disconnect(listen)
    assert heard == [
        {
            "signal": graph_execution_finished,
            "execution_id": run.pk,
            "user_id": owner.pk,
            "graph_id": run.graph_id,
            "graph_version": 1,
            "graph_name": "Echo",
            "status": "cancelled",
            "node_error_count": 0,
            "error_message": "The run was stopped.",
            "cost": 0,
            "duration_seconds": 0.0,
            "parent_id": None,
        }
    ]
