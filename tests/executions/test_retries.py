"""Retries and retry from failure (SPEC §17), through the API and a real worker, against the
OpenAI-compatible test server (scripted to fail) and a local HTTP server that counts requests."""

import json
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.credits.models import CreditTransaction
from apps.executions import services
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.blocks.library.ai import AITextGeneratorBlock
from apps.users.models import User
from tests.graphs.graphs import INPUT, OUTPUT, WEB_REQUEST, link, node
from tests.processes import WorkerProcess, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
PLATFORM_KEY = "sk-platform-0123456789abcdef"
WEB_PRICE = 3


@pytest.fixture(scope="module")
def retry_worker(django_db_setup, django_db_blocker, openai_server_session):
    env = {
        "OPENAI_API_KEY": PLATFORM_KEY,
        "OPENAI_BASE_URL": openai_server_session.url,
        "BLOCK_COST_OVERRIDES": json.dumps(
            {WEB_REQUEST: [{"amount": WEB_PRICE, "unit": "RUN", "filter": {}}]}
        ),
    }
    process = WorkerProcess(hostname="retries", env=env).start()
    yield process
    process.stop()


def _ai(key: str, *, attempts: int | None = None, **defaults: Any) -> dict[str, Any]:
    ai = node(key, AITextGeneratorBlock.id, **defaults)
    if attempts is not None:
        ai["metadata"] = {"max_attempts": attempts}
    return ai


def _create(client: APIClient, graph: dict[str, Any]) -> str:
    created = client.post("/api/graphs", graph, format="json")
    assert created.status_code == 201, created.content
    return created.json()["id"]


def _finished(run_id: str) -> GraphExecution:
    wait_for(
        lambda: GraphExecution.objects.filter(
            pk=run_id, status__in=["completed", "failed", "cancelled"]
        ).exists(),
        timeout=30,
        what="the run to end",
    )
    return GraphExecution.objects.get(pk=run_id)


def _run(client: APIClient, graph_id: str) -> GraphExecution:
    started = client.post(f"/api/graphs/{graph_id}/execute", {}, format="json")
    assert started.status_code == 200, started.content
    return _finished(started.json()["id"])


def _charged_nodes(run: GraphExecution) -> list[str]:
    entries = CreditTransaction.objects.filter(graph_exec_id=run.pk, type="USAGE")
    return sorted(entry.metadata["node_id"] for entry in entries)


def test_a_503_twice_then_200_succeeds_on_attempt_3_with_one_charge(
    retry_worker, openai_server, owner_client: APIClient
) -> None:
    graph_id = _create(owner_client, {
        "name": "Flaky model",
        "nodes": [_ai("ai", prompt="REPLY: fine"), node("out", OUTPUT, name="answer")],
        "links": [link("ai", "response", "out", "value")],
    })  # fmt: skip
    openai_server.script_statuses(503, 503)
    run = _run(owner_client, graph_id)
    assert run.status == "completed"
    assert not run.has_errors
    assert run.outputs == {"answer": ["fine"]}
    assert len(openai_server.requests) == 3
    ai = NodeExecution.objects.get(graph_execution=run, node__key="ai")
    attempts = ai.stats["attempts"]
    assert [a["status"] for a in attempts] == ["failed", "failed", "completed"]
    assert attempts[0]["failure_kind"] == "server_error"
    assert "503" in attempts[0]["error"]
    assert _charged_nodes(run) == ["ai"]  # one charge for the node execution


def test_retry_after_is_waited_and_the_attempts_override_of_a_node_holds(
    retry_worker, openai_server, owner_client: APIClient
) -> None:
    graph_id = _create(owner_client, {
        "name": "Rate limited",
        "nodes": [_ai("ai", attempts=2, prompt="REPLY: ok"), node("out", OUTPUT, name="a")],
        "links": [link("ai", "response", "out", "value")],
    })  # fmt: skip
    openai_server.script_statuses(429, retry_after=1)
    run = _run(owner_client, graph_id)
    assert run.outputs == {"a": ["ok"]}
    first, second = openai_server.requests
    assert second["at"] - first["at"] >= 1.0
    openai_server.reset()
    openai_server.script_statuses(429, 429, 429, retry_after=0)
    run = _run(owner_client, graph_id)
    assert run.has_errors
    assert len(openai_server.requests) == 2  # the node's own 2 attempts, not the block's 3


def test_retry_from_failure_runs_only_the_failed_branch_and_charges_only_it(
    retry_worker, openai_server, http_test_server, owner_client: APIClient, owner: User
) -> None:
    path = f"/json?run={uuid.uuid4()}"
    graph_id = _create(owner_client, {
        "name": "Two branches",
        "nodes": [
            node("fetch", WEB_REQUEST, url=f"{http_test_server.url}{path}"),
            node("fetched", OUTPUT, name="fetched"),
            _ai("ai", attempts=1, prompt="REPLY: summary"),
            node("answer", OUTPUT, name="answer"),
        ],
        "links": [
            link("fetch", "response", "fetched", "value"),
            link("ai", "response", "answer", "value"),
        ],
    })  # fmt: skip
    openai_server.script_statuses(500)
    first = _run(owner_client, graph_id)
    assert first.status == "completed"
    assert first.has_errors
    assert http_test_server.hits(path) == 1
    assert "ai" in _charged_nodes(first)

    answer = owner_client.post(f"/api/executions/{first.pk}/retry", {}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["retry_of"] == str(first.pk)
    retried = _finished(answer.json()["id"])
    assert retried.status == "completed"
    assert not retried.has_errors
    assert retried.outputs == {"fetched": [{"hello": "world"}], "answer": ["summary"]}
    assert http_test_server.hits(path) == 1  # the fetch was not run again
    assert _charged_nodes(retried) == ["ai"]  # nor charged again
    fetch = NodeExecution.objects.get(graph_execution=retried, node__key="fetch")
    assert fetch.stats["reused_from"] == str(
        NodeExecution.objects.get(graph_execution=first, node__key="fetch").pk
    )
    detail = owner_client.get(f"/api/executions/{retried.pk}").json()
    assert detail["retry_of"] == str(first.pk)


def test_what_cannot_be_retried(
    owner_client: APIClient, other_user: User, owner: User, api_client: APIClient
) -> None:
    graph_id = _create(owner_client, {
        "name": "Echo",
        "nodes": [node("in", INPUT, name="x"), node("out", OUTPUT, name="y")],
        "links": [link("in", "result", "out", "value")],
    })  # fmt: skip
    waiting = services.graph_execution_start(
        user=owner, graph_id=graph_id, inputs={"x": 1}, enqueue=False
    )
    answer = owner_client.post(f"/api/executions/{waiting.pk}/retry", {}, format="json")
    assert answer.status_code == 409
    assert answer.json()["error"]["error_code"] == "CONFLICT"
    assert "queued" in answer.json()["error"]["message"]

    GraphExecution.objects.filter(pk=waiting.pk).update(status="completed")
    answer = owner_client.post(f"/api/executions/{waiting.pk}/retry", {}, format="json")
    assert answer.status_code == 409
    assert "nothing to retry" in answer.json()["error"]["message"]

    GraphExecution.objects.filter(pk=waiting.pk).update(has_errors=True)
    bad = owner_client.post(
        f"/api/executions/{waiting.pk}/retry", {"max_credits": -1}, format="json"
    )
    assert bad.status_code == 400
    api_client.force_authenticate(other_user)
    assert (
        api_client.post(f"/api/executions/{waiting.pk}/retry", {}, format="json").status_code == 404
    )
    assert (
        owner_client.post(f"/api/executions/{uuid.uuid4()}/retry", {}, format="json").status_code
        == 404
    )
    assert GraphExecution.objects.filter(retry_of=waiting).count() == 0
