"""Runs pay per node (SPEC §6 credits), with a real worker that prices Store Value nodes."""

import json

import pytest
from rest_framework.test import APIClient

from apps.credits import selectors, services
from apps.credits.models import CreditTransaction
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.blocks.library.basic import StoreValueBlock
from apps.graphs.blocks.library.timing import DelayBlock
from apps.users.models import User
from tests.processes import WorkerProcess, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
PRICE = 10
PER_SECOND = 2


@pytest.fixture(scope="module")
def pricing_worker(django_db_setup, django_db_blocker):
    prices = {
        StoreValueBlock.id: [{"amount": PRICE, "unit": "RUN", "filter": {}}],
        DelayBlock.id: [{"amount": PER_SECOND, "unit": "SECOND", "filter": {}}],
    }
    process = WorkerProcess(
        hostname="pricing", env={"BLOCK_COST_OVERRIDES": json.dumps(prices)}
    ).start()
    yield process
    process.stop()


def _chain(length: int) -> dict:
    nodes = [{"id": "n0", "block_id": StoreValueBlock.id, "input_default": {"input": "go"}}]
    links = []
    for index in range(1, length):
        nodes.append({"id": f"n{index}", "block_id": StoreValueBlock.id})
        links.append(
            {
                "source_id": f"n{index - 1}",
                "source_name": "output",
                "sink_id": f"n{index}",
                "sink_name": "input",
            }
        )
    return {"name": "Five paid steps", "nodes": nodes, "links": links}


def test_a_run_stops_when_the_credits_run_out(
    pricing_worker, owner: User, owner_client: APIClient
) -> None:
    current = selectors.credit_balance_get(user_id=owner.pk)
    services.credit_grant(user_id=owner.pk, amount=3 * PRICE - current, reason="t", granted_by="t")
    graph = owner_client.post("/api/graphs", _chain(5), format="json").json()
    run = owner_client.post(f"/api/graphs/{graph['id']}/execute", {}, format="json").json()
    wait_for(
        lambda: GraphExecution.objects.filter(pk=run["id"], status="failed").exists(),
        timeout=30,
        what="the run to fail for credits",
    )
    execution = GraphExecution.objects.get(pk=run["id"])
    assert execution.error_message.startswith("INSUFFICIENT_CREDITS")
    statuses = dict(
        NodeExecution.objects.filter(graph_execution=execution).values_list("node__key", "status")
    )
    assert statuses == {"n0": "completed", "n1": "completed", "n2": "completed", "n3": "failed"}
    failed = NodeExecution.objects.get(graph_execution=execution, node__key="n3")
    assert failed.error.startswith("INSUFFICIENT_CREDITS")
    assert selectors.credit_balance_get(user_id=owner.pk) == 0
    usage = CreditTransaction.objects.filter(user=owner, type="USAGE", graph_exec_id=execution.pk)
    assert sorted(usage.values_list("amount", flat=True)) == [-PRICE] * 3
    assert execution.stats["cost"] == 3 * PRICE
    history = owner_client.get("/api/credits/transactions?type=USAGE").json()["data"]
    assert [(row["amount"], row["entries"], row["description"]) for row in history] == [
        (-3 * PRICE, 3, "Five paid steps")
    ]


def test_a_paid_run_is_charged_once_per_node(
    pricing_worker, owner: User, owner_client: APIClient
) -> None:
    before = selectors.credit_balance_get(user_id=owner.pk)
    graph = owner_client.post("/api/graphs", _chain(2), format="json").json()
    run = owner_client.post(f"/api/graphs/{graph['id']}/execute", {}, format="json").json()
    wait_for(
        lambda: GraphExecution.objects.filter(pk=run["id"], status="completed").exists(),
        timeout=30,
        what="the paid run",
    )
    assert selectors.credit_balance_get(user_id=owner.pk) == before - 2 * PRICE
    assert GraphExecution.objects.get(pk=run["id"]).stats["cost"] == 2 * PRICE


def test_a_node_priced_by_the_second_pays_every_started_second(
    pricing_worker,
    owner: User,
    owner_client: APIClient,
) -> None:
    before = selectors.credit_balance_get(user_id=owner.pk)
    payload = {
        "name": "Wait a bit",
        "nodes": [{"id": "wait", "block_id": DelayBlock.id, "input_default": {"seconds": 1.2}}],
        "links": [],
    }
    graph = owner_client.post("/api/graphs", payload, format="json").json()
    run = owner_client.post(f"/api/graphs/{graph['id']}/execute", {}, format="json").json()
    wait_for(
        lambda: GraphExecution.objects.filter(pk=run["id"], status="completed").exists(),
        timeout=30,
        what="the timed run",
    )
    # 1.2 s started two seconds: one paid before the node ran, one settled after it.
    keys = sorted(
        CreditTransaction.objects.filter(user=owner, graph_exec_id=run["id"]).values_list(
            "transaction_key", "amount"
        )
    )
    node_id = NodeExecution.objects.get(graph_execution_id=run["id"]).pk
    assert keys == [(f"node:{node_id}", -PER_SECOND), (f"node:{node_id}:time", -PER_SECOND)]
    assert selectors.credit_balance_get(user_id=owner.pk) == before - 2 * PER_SECOND
    assert GraphExecution.objects.get(pk=run["id"]).stats["cost"] == 2 * PER_SECOND
