"""The budget cap (SPEC §17): `max_credits` is accepted on every run start and stored on the
run, the estimate of a run's cost is on the graph before a run, and a real worker never lets a
run (with its sub-agent runs) spend past it: the node that would pass it is neither run nor
charged and the run fails with BUDGET_EXCEEDED."""

import json

import pytest
from rest_framework.test import APIClient

from apps.credits import selectors, services
from apps.credits.models import CreditTransaction
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.blocks.library.agent import AgentExecutorBlock
from apps.graphs.blocks.library.basic import PrintBlock, StoreValueBlock
from apps.users.models import User
from tests.executions.test_credits import PRICE, _chain
from tests.graphs.graphs import echo_graph
from tests.processes import WorkerProcess, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
PRICES = {PrintBlock.id: [{"amount": 7, "unit": "RUN", "filter": {}}]}


@pytest.fixture(scope="module")
def budget_worker(django_db_setup, django_db_blocker):
    prices = {StoreValueBlock.id: [{"amount": PRICE, "unit": "RUN", "filter": {}}]}
    process = WorkerProcess(
        hostname="budget", env={"BLOCK_COST_OVERRIDES": json.dumps(prices)}
    ).start()
    yield process
    process.stop()


def _ended(run_id: str) -> GraphExecution:
    wait_for(
        lambda: GraphExecution.objects.filter(
            pk=run_id, status__in=["completed", "failed"]
        ).exists(),
        timeout=30,
        what="the run to end",
    )
    return GraphExecution.objects.get(pk=run_id)


def _usage(run_ids: list) -> list[int]:
    entries = CreditTransaction.objects.filter(type="USAGE", graph_exec_id__in=run_ids)
    return sorted(entries.values_list("amount", flat=True))


def _graph(client: APIClient) -> dict:
    response = client.post("/api/graphs", echo_graph(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_max_credits_is_stored_on_the_run(owner_client: APIClient) -> None:
    graph = _graph(owner_client)
    url = f"/api/graphs/{graph['id']}/execute"
    capped = owner_client.post(url, {"inputs": {"topic": "x"}, "max_credits": 40}, format="json")
    assert capped.status_code == 200, capped.content
    assert capped.json()["max_credits"] == 40
    assert GraphExecution.objects.get(pk=capped.json()["id"]).max_credits == 40
    free = owner_client.post(url, {"inputs": {"topic": "x"}}, format="json").json()
    assert free["max_credits"] is None
    detail = owner_client.get(f"/api/executions/{capped.json()['id']}").json()
    assert detail["max_credits"] == 40
    preset = owner_client.post(
        "/api/presets",
        {"name": "P", "graph_id": graph["id"], "graph_version": 1, "inputs": {"topic": "x"}},
        format="json",
    ).json()
    from_preset = owner_client.post(
        f"/api/presets/{preset['id']}/execute", {"max_credits": 0}, format="json"
    )
    assert from_preset.status_code == 200, from_preset.content
    assert from_preset.json()["max_credits"] == 0


@pytest.mark.parametrize("value", [-1, "ten", 2**31, 1.5])
def test_a_bad_max_credits_is_a_400(owner_client: APIClient, value) -> None:
    graph = _graph(owner_client)
    response = owner_client.post(
        f"/api/graphs/{graph['id']}/execute",
        {"inputs": {"topic": "x"}, "max_credits": value},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["error_code"] == "VALIDATION_ERROR"
    assert not GraphExecution.objects.exists()


def test_the_graph_carries_its_cost_estimate(owner_client: APIClient, settings) -> None:
    settings.BLOCK_COST_OVERRIDES = PRICES
    graph = _graph(owner_client)
    body = owner_client.get(f"/api/graphs/{graph['id']}").json()
    assert body["cost_estimate"]["total_credits"] == 7
    assert (
        body["cost_estimate"] == owner_client.get(f"/api/graphs/{graph['id']}/cost-estimate").json()
    )


def _rich(owner: User) -> None:
    current = selectors.credit_balance_get(user_id=owner.pk)
    if current != 1000:
        services.credit_grant(user_id=owner.pk, amount=1000 - current, reason="t", granted_by="t")


def test_a_run_stops_before_the_node_that_would_pass_its_budget(
    budget_worker, owner: User, owner_client: APIClient
) -> None:
    _rich(owner)
    graph = owner_client.post("/api/graphs", _chain(5), format="json").json()
    url = f"/api/graphs/{graph['id']}/execute"
    run = owner_client.post(url, {"max_credits": 2 * PRICE + 5}, format="json").json()
    execution = _ended(run["id"])
    assert execution.status == "failed"
    assert execution.error_message.startswith("BUDGET_EXCEEDED")
    statuses = dict(
        NodeExecution.objects.filter(graph_execution=execution).values_list("node__key", "status")
    )
    assert statuses == {"n0": "completed", "n1": "completed", "n2": "failed"}
    refused = NodeExecution.objects.get(graph_execution=execution, node__key="n2")
    assert refused.error.startswith("BUDGET_EXCEEDED")
    assert _usage([execution.pk]) == [-PRICE] * 2
    assert selectors.credit_balance_get(user_id=owner.pk) == 1000 - 2 * PRICE
    detail = owner_client.get(f"/api/executions/{run['id']}").json()
    assert detail["status"] == "failed"
    assert detail["error_message"].startswith("BUDGET_EXCEEDED")
    # A budget that holds exactly what the run costs is enough.
    exact = owner_client.post(url, {"max_credits": 5 * PRICE}, format="json").json()
    assert _ended(exact["id"]).status == "completed"
    assert _usage([exact["id"]]) == [-PRICE] * 5


@pytest.mark.parametrize("budget", [0, PRICE - 1])
def test_a_budget_below_the_first_node_fails_the_run_at_once(
    budget_worker, owner: User, owner_client: APIClient, budget: int
) -> None:
    _rich(owner)
    graph = owner_client.post("/api/graphs", _chain(3), format="json").json()
    run = owner_client.post(
        f"/api/graphs/{graph['id']}/execute", {"max_credits": budget}, format="json"
    ).json()
    execution = _ended(run["id"])
    assert execution.status == "failed"
    assert execution.error_message.startswith("BUDGET_EXCEEDED")
    statuses = list(
        NodeExecution.objects.filter(graph_execution=execution).values_list("node__key", "status")
    )
    assert statuses == [("n0", "failed")]
    assert not CreditTransaction.objects.filter(graph_exec_id=execution.pk).exists()
    assert selectors.credit_balance_get(user_id=owner.pk) == 1000


def test_sub_agent_runs_count_toward_their_parents_budget(
    budget_worker, owner: User, owner_client: APIClient
) -> None:
    _rich(owner)
    child = owner_client.post("/api/graphs", _chain(3), format="json").json()
    parent_graph = {
        "name": "Parent",
        "nodes": [
            {"id": "a", "block_id": StoreValueBlock.id, "input_default": {"input": "go"}},
            {
                "id": "sub",
                "block_id": AgentExecutorBlock.id,
                "input_default": {"graph_id": child["id"]},
            },
        ],
        "links": [],
    }
    parent = owner_client.post("/api/graphs", parent_graph, format="json").json()
    run = owner_client.post(
        f"/api/graphs/{parent['id']}/execute", {"max_credits": 2 * PRICE + 5}, format="json"
    ).json()
    execution = _ended(run["id"])
    sub_run = GraphExecution.objects.get(parent=execution)
    assert sub_run.status == "failed"
    assert sub_run.error_message.startswith("BUDGET_EXCEEDED")
    # The parent's node and the child's first node fit; the child's second would pass the cap.
    assert _usage([execution.pk]) == [-PRICE]
    assert _usage([sub_run.pk]) == [-PRICE]
    assert selectors.credit_balance_get(user_id=owner.pk) == 1000 - 2 * PRICE
    assert execution.has_errors
