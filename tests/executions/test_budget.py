"""The budget cap's API side (SPEC §17): `max_credits` is accepted on every run start and
stored on the run, and the estimate of a run's cost is on the graph before a run. (The worker
does not enforce the cap yet.)"""

import pytest
from rest_framework.test import APIClient

from apps.executions.models import GraphExecution
from apps.graphs.blocks.library.basic import PrintBlock
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db(transaction=True)
PRICES = {PrintBlock.id: [{"amount": 7, "unit": "RUN", "filter": {}}]}


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
