"""Honest outcomes (SPEC §17) through the API and a real worker: a run whose node failed is
"completed with errors" — `has_errors`, the first failed node's error, the `has_errors` filter of
both runs lists, and the completion notification."""

import pytest
from rest_framework.test import APIClient

from apps.executions.models import GraphExecution, NodeExecution
from tests.graphs.graphs import INPUT, OUTPUT, echo_graph, link, node
from tests.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

BAD_TEMPLATE = {
    "name": "Bad template",
    "nodes": [
        node("in", INPUT, name="topic"),
        node("out", OUTPUT, name="answer", format="{{ value.__class__ }}"),
    ],
    "links": [link("in", "result", "out", "value")],
}


def _graph(client: APIClient, payload: dict) -> dict:
    response = client.post("/api/graphs", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _run(client: APIClient, graph: dict) -> dict:
    response = client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "otters"}}, format="json"
    )
    assert response.status_code == 200, response.content
    started = response.json()
    assert started["has_errors"] is False  # nothing has failed yet

    def done() -> dict | None:
        body = client.get(f"/api/executions/{started['id']}").json()
        return body if body["status"] not in ("queued", "running", "incomplete") else None

    return wait_for(done, timeout=60, what=f"run {started['id']} to finish")


def test_a_run_with_a_failed_node_is_completed_with_errors_everywhere(
    worker, owner_client: APIClient
) -> None:
    bad_graph = _graph(owner_client, BAD_TEMPLATE)
    bad = _run(owner_client, bad_graph)
    clean = _run(owner_client, _graph(owner_client, echo_graph()))

    assert bad["status"] == "completed"
    assert bad["has_errors"] is True
    assert bad["stats"]["node_error_count"] == 1
    failed = [n for n in bad["node_executions"] if n["status"] == "failed"]
    assert len(failed) == 1
    # The run's error is its first failed node's, never empty ("Error: none").
    assert bad["error_message"] == failed[0]["error"].strip()
    assert "format template failed" in bad["error_message"]
    assert clean["has_errors"] is False
    assert clean["error_message"] == ""
    assert GraphExecution.objects.get(pk=bad["id"]).has_errors is True

    def ids(url: str) -> list[str]:
        response = owner_client.get(url)
        assert response.status_code == 200, response.content
        return [run["id"] for run in response.json()["data"]]

    assert ids("/api/executions?has_errors=true") == [bad["id"]]
    assert ids("/api/executions?has_errors=false") == [clean["id"]]
    assert set(ids("/api/executions")) == {bad["id"], clean["id"]}
    assert ids(f"/api/graphs/{bad_graph['id']}/executions?has_errors=true") == [bad["id"]]
    assert ids(f"/api/graphs/{bad_graph['id']}/executions?has_errors=false") == []
    assert ids("/api/executions?status=completed&has_errors=true") == [bad["id"]]

    # The completion notification says so, with the first error.
    def notification() -> dict | None:
        rows = owner_client.get("/api/notifications").json()["data"]
        runs = [
            n for n in rows if n["type"] == "agent_run" and n["data"]["execution_id"] == bad["id"]
        ]
        return runs[0] if runs else None

    notice = wait_for(notification, timeout=20, what="the run's notification")
    assert notice["title"] == "Bad template finished: completed with errors"
    assert "1 node failed" in notice["message"]
    assert "format template failed" in notice["message"]
    assert notice["data"]["outcome"] == "completed with errors"
    clean_notice = [
        n
        for n in owner_client.get("/api/notifications").json()["data"]
        if n["type"] == "agent_run" and n["data"]["execution_id"] == clean["id"]
    ]
    assert clean_notice[0]["title"] == "Echo finished: completed"
    assert "failed" not in clean_notice[0]["message"]


def test_the_first_failed_node_by_end_time_gives_the_error(owner, owner_client) -> None:
    from apps.executions import outcome, services
    from apps.executions.engine.types import RunResult

    graph = _graph(owner_client, echo_graph())
    run = services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "x"}, enqueue=False
    )
    rows = list(NodeExecution.objects.filter(graph_execution=run).order_by("sequence"))
    assert rows, "the entry node executions exist"
    result = RunResult(
        status=GraphExecution.Status.COMPLETED, outputs={}, node_count=1, node_error_count=1
    )
    # No failed row stored (yet): a message that still says a node failed.
    assert outcome.finish_fields(run.pk, result) == {
        "has_errors": True,
        "error_message": "A node failed without a message.",
    }
    NodeExecution.objects.filter(pk=rows[0].pk).update(status="failed", error="  boom  ")
    assert outcome.finish_fields(run.pk, result)["error_message"] == "boom"
    # An engine-level error stays the run's error; a clean run has none.
    engine_error = RunResult(
        status=GraphExecution.Status.FAILED,
        outputs={},
        node_count=1,
        node_error_count=1,
        error_message="INSUFFICIENT_CREDITS",
    )
    assert outcome.finish_fields(run.pk, engine_error) == {"has_errors": True}
    clean = RunResult(
        status=GraphExecution.Status.COMPLETED, outputs={}, node_count=1, node_error_count=0
    )
    assert outcome.finish_fields(run.pk, clean) == {"has_errors": False}


@pytest.mark.parametrize("value", ["maybe", "2", "TRUEISH"])
def test_a_bad_has_errors_filter_is_a_400_in_the_error_shape(
    owner_client: APIClient, value: str
) -> None:
    for url in ("/api/executions", "/api/graphs/00000000-0000-0000-0000-000000000000/executions"):
        response = owner_client.get(url, {"has_errors": value})
        if url.startswith("/api/graphs"):
            assert response.status_code == 404  # the graph is checked first
            continue
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert response.json()["success"] is False
        assert error["error_code"] == "VALIDATION_ERROR"
        assert error["details"]["fields"] == {"has_errors": value}
