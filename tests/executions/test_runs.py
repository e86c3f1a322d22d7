"""Runs end to end: the REST API, a real Celery worker, the database and Redis."""

import time

import pytest
from rest_framework.test import APIClient

from apps.executions import services
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.blocks.library.conversion import JSONParseBlock
from apps.users.models import User
from tests.graphs.graphs import AGENT, INPUT, OUTPUT, delay_graph, echo_graph, link, node
from tests.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _finished(client: APIClient, graph_exec_id: str, timeout: float = 30) -> dict:
    def done() -> dict | None:
        body = client.get(f"/api/executions/{graph_exec_id}").json()
        return body if body["status"] not in ("queued", "running", "incomplete") else None

    return wait_for(done, timeout=timeout, what=f"execution {graph_exec_id} to finish")


def test_a_run_goes_from_post_to_completed_with_outputs(worker, owner_client: APIClient) -> None:
    graph = owner_client.post("/api/graphs", echo_graph(), format="json").json()
    response = owner_client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "otters"}}, format="json"
    )
    assert response.status_code == 200, response.content
    started = response.json()
    assert started["status"] == "queued"
    body = _finished(owner_client, started["id"])
    assert body["status"] == "completed"
    assert body["outputs"] == {"answer": ["otters"]}
    assert body["stats"]["node_count"] == 3
    assert body["stats"]["node_error_count"] == 0
    assert [n["node_id"] for n in body["node_executions"]] == ["in", "print", "out"]
    assert all(n["status"] == "completed" for n in body["node_executions"])
    assert body["node_executions"][1]["output_data"] == {"output": ["otters"]}


def _start(client: APIClient, graph: dict, inputs: dict | None = None) -> dict:
    response = client.post(
        f"/api/graphs/{graph['id']}/execute",
        {"inputs": inputs or {"topic": "otters"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def _graph(client: APIClient, payload: dict | None = None) -> dict:
    response = client.post("/api/graphs", payload or echo_graph(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_stop_cancels_a_running_run_within_two_seconds(worker, owner_client: APIClient) -> None:
    graph = _graph(owner_client, delay_graph(30))
    run = _start(owner_client, graph)
    wait_for(
        lambda: NodeExecution.objects.filter(
            graph_execution_id=run["id"], node__key="wait", status="running"
        ).exists(),
        timeout=20,
        what="the Delay node to be running",
    )
    asked = time.monotonic()
    stopped = owner_client.post(f"/api/graphs/{graph['id']}/executions/{run['id']}/stop")
    assert stopped.status_code == 200
    body = _finished(owner_client, run["id"], timeout=5)
    assert time.monotonic() - asked < 2
    assert body["status"] == "cancelled"
    statuses = {n["node_id"]: n["status"] for n in body["node_executions"]}
    assert statuses["in"] == "completed"
    assert statuses["wait"] == "cancelled"
    # Stopping a finished run returns it unchanged.
    again = owner_client.post(f"/api/graphs/{graph['id']}/executions/{run['id']}/stop").json()
    assert again["status"] == "cancelled"
    assert again["ended_at"] == body["ended_at"]


def test_a_queued_run_is_cancelled_at_once(owner_client: APIClient, owner: User) -> None:
    graph = _graph(owner_client)
    # Not enqueued, so no worker can take it: it stays queued until stopped.
    run = services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "x"}, enqueue=False
    )
    body = owner_client.post(f"/api/graphs/{graph['id']}/executions/{run.id}/stop").json()
    assert body["status"] == "cancelled"
    assert set(
        NodeExecution.objects.filter(graph_execution_id=run.id).values_list("status", flat=True)
    ) == {"cancelled"}


def test_invalid_run_inputs_are_a_400_with_node_errors(owner_client: APIClient) -> None:
    graph = _graph(owner_client)
    response = owner_client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {}}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["error_code"] == "GRAPH_VALIDATION_ERROR"
    assert error["details"]["node_errors"] == {"in": {"value": "the run input 'topic' is required"}}
    assert not GraphExecution.objects.exists()


def test_run_inputs_beyond_the_limits_are_refused(owner_client: APIClient) -> None:
    graph = _graph(owner_client)
    deep: object = "x"
    for _ in range(12):
        deep = [deep]
    response = owner_client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": deep}}, format="json"
    )
    assert response.status_code == 400
    assert not GraphExecution.objects.exists()


def test_a_specific_version_and_a_preset_can_be_run(worker, owner_client: APIClient) -> None:
    graph = _graph(owner_client)
    owner_client.put(f"/api/graphs/{graph['id']}", echo_graph("v2"), format="json")
    run = owner_client.post(
        f"/api/graphs/{graph['id']}/execute/1", {"inputs": {"topic": "v1"}}, format="json"
    ).json()
    assert run["graph_version"] == 1
    preset = owner_client.post(
        "/api/presets",
        {"graph_id": graph["id"], "graph_version": 2, "name": "p", "inputs": {"topic": "preset"}},
        format="json",
    ).json()
    from_preset = owner_client.post(
        f"/api/presets/{preset['id']}/execute", {}, format="json"
    ).json()
    overridden = owner_client.post(
        f"/api/graphs/{graph['id']}/execute?preset_id={preset['id']}",
        {"inputs": {"topic": "request wins"}},
        format="json",
    ).json()
    assert _finished(owner_client, run["id"])["outputs"] == {"answer": ["v1"]}
    assert _finished(owner_client, from_preset["id"])["outputs"] == {"answer": ["preset"]}
    assert from_preset["preset_id"] == preset["id"]
    assert _finished(owner_client, overridden["id"])["outputs"] == {"answer": ["request wins"]}


def test_lists_results_share_and_soft_delete(worker, owner_client: APIClient) -> None:
    graph = _graph(owner_client)
    run = _start(owner_client, graph)
    _finished(owner_client, run["id"])
    listed = owner_client.get(f"/api/graphs/{graph['id']}/executions").json()
    assert [r["id"] for r in listed["data"]] == [run["id"]]
    assert owner_client.get("/api/executions?status=completed").json()["total"] == 1
    assert owner_client.get("/api/executions?status=failed").json()["total"] == 0
    assert owner_client.get("/api/executions?status=nonsense").status_code == 400
    results = owner_client.get(f"/api/executions/{run['id']}/results").json()
    assert results["status"] == "completed"
    assert results["output"] == {"answer": ["otters"]}
    assert [n["node_id"] for n in results["nodes"]] == ["in", "print", "out"]
    assert results["nodes"][2]["output"] == {"output": ["otters"], "name": ["answer"]}

    stats = owner_client.get("/api/graphs").json()["data"][0]
    assert (stats["execution_count"], stats["success_rate"]) == (1, 1.0)
    assert stats["last_execution_at"] is not None

    share = owner_client.post(f"/api/graphs/{graph['id']}/executions/{run['id']}/share").json()
    public = APIClient().get(f"/api/public/shared/{share['share_token']}")
    assert public.status_code == 200
    assert public.json()["outputs"] == {"answer": ["otters"]}
    assert "inputs" not in public.json()
    assert public.json()["graph_name"] == "Echo"
    owner_client.delete(f"/api/graphs/{graph['id']}/executions/{run['id']}/share")
    assert APIClient().get(f"/api/public/shared/{share['share_token']}").status_code == 404

    assert owner_client.delete(f"/api/executions/{run['id']}").status_code == 204
    assert owner_client.get(f"/api/executions/{run['id']}").status_code == 404
    assert owner_client.get("/api/executions").json()["total"] == 0
    assert GraphExecution.objects.filter(pk=run["id"], is_deleted=True).exists()


def test_another_users_runs_are_not_found(
    worker, owner_client: APIClient, other_user: User
) -> None:
    graph = _graph(owner_client)
    run = _start(owner_client, graph)
    other = APIClient()
    other.force_authenticate(other_user)
    responses = [
        other.get(f"/api/executions/{run['id']}"),
        other.get(f"/api/executions/{run['id']}/results"),
        other.delete(f"/api/executions/{run['id']}"),
        other.post(f"/api/graphs/{graph['id']}/executions/{run['id']}/stop"),
        other.post(f"/api/graphs/{graph['id']}/executions/{run['id']}/share"),
        other.get(f"/api/graphs/{graph['id']}/executions"),
        other.post(f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "x"}}, format="json"),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert other.get("/api/executions").json()["total"] == 0
    assert _finished(owner_client, run["id"])["status"] == "completed"


def test_a_failing_node_leaves_the_run_completed_with_an_error_count(
    worker, owner_client: APIClient
) -> None:
    payload = {
        "name": "Bad template",
        "nodes": [
            node("in", INPUT, name="topic"),
            node("out", OUTPUT, name="answer", format="{{ value.__class__ }}"),
        ],
        "links": [link("in", "result", "out", "value")],
    }
    run = _start(owner_client, _graph(owner_client, payload))
    body = _finished(owner_client, run["id"])
    assert body["status"] == "completed"
    assert body["stats"]["node_error_count"] == 1
    failed = body["node_executions"][1]
    assert failed["status"] == "failed"
    assert "format template failed" in failed["error"]


def test_block_output_the_database_cannot_store_is_kept_with_replacement_characters(
    worker, owner_client: APIClient
) -> None:
    """Parse JSON turns escapes in its (storable) input into NUL and a lone surrogate half."""
    payload = {
        "name": "Parser",
        "nodes": [
            node("in", INPUT, name="topic"),
            node("parse", JSONParseBlock.id),
            node("out", OUTPUT, name="answer"),
        ],
        "links": [
            link("in", "result", "parse", "json_string"),
            link("parse", "parsed", "out", "value"),
        ],
    }
    text = r'{"a\u0000b": ["\ud800", "\ud83e\udda6"]}'
    run = _start(owner_client, _graph(owner_client, payload), {"topic": text})
    body = _finished(owner_client, run["id"])
    assert body["status"] == "completed", body
    assert body["stats"]["node_error_count"] == 0
    outputs = {"answer": [{"a\ufffdb": ["\ufffd", "🦦"]}]}
    assert body["outputs"] == outputs
    parsed = body["node_executions"][1]
    assert (parsed["node_id"], parsed["output_data"]) == ("parse", {"parsed": outputs["answer"]})


def test_a_sub_agent_runs_as_a_child_and_its_outputs_come_back(
    worker, owner_client: APIClient
) -> None:
    child = _graph(owner_client, echo_graph("Child"))
    parent = {
        "name": "Parent",
        "nodes": [
            node("in", INPUT, name="topic"),
            node("agent", AGENT, graph_id=child["id"]),
            node("out", OUTPUT, name="from_child"),
        ],
        "links": [
            link("in", "result", "agent", "inputs_#_topic"),
            link("agent", "outputs_#_answer", "out", "value"),
        ],
    }
    run = _start(owner_client, _graph(owner_client, parent), {"topic": "nested"})
    body = _finished(owner_client, run["id"])
    assert body["status"] == "completed", body
    assert body["outputs"] == {"from_child": ["nested"]}
    child_run = GraphExecution.objects.get(parent_id=run["id"])
    assert child_run.status == "completed"
    assert str(child_run.graph_id) == child["id"]
    assert child_run.outputs == {"answer": ["nested"]}


def _metric(client: APIClient, line_start: str) -> float:
    for line in client.get("/metrics").content.decode().splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_worker_metrics_reach_the_web_process(worker, owner_client: APIClient) -> None:
    runs_metric = 'autogpt_graph_executions_total{status="completed"}'
    print_metric = 'autogpt_block_executions_total{block="Print",status="completed"}'
    before_runs, before_prints = (
        _metric(owner_client, runs_metric),
        _metric(owner_client, print_metric),
    )
    run = _start(owner_client, _graph(owner_client))
    _finished(owner_client, run["id"])
    assert _metric(owner_client, runs_metric) == before_runs + 1
    assert _metric(owner_client, print_metric) == before_prints + 1
    page = owner_client.get("/metrics").content.decode()
    assert "autogpt_graph_execution_duration_seconds_bucket" in page
    assert 'autogpt_queue_depth{queue="executions"}' in page
    assert "django_http_requests_total_by_view_transport_method_total" in page


def test_a_finished_runs_rest_detail(worker, owner_client: APIClient) -> None:
    """What the removed twin-equality tests also held (REST and events now share one builder,
    apps.executions.payloads): a finished run's detail lists its node executions, ended."""
    run = _start(owner_client, _graph(owner_client))
    _finished(owner_client, run["id"])
    rest = owner_client.get(f"/api/executions/{run['id']}").json()
    assert len(rest["node_executions"]) == 3
    assert rest["status"] == "completed"
    assert rest["ended_at"] is not None
