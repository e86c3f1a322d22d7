import pytest
from rest_framework.test import APIClient

from apps.graphs.models import Preset
from apps.users.models import User
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph(owner_client: APIClient) -> dict:
    return owner_client.post("/api/graphs", echo_graph(), format="json").json()


def _preset(client: APIClient, graph: dict, **extra: object):
    payload = {
        "graph_id": graph["id"],
        "graph_version": 1,
        "name": "Otters",
        "inputs": {"topic": "otters"},
        **extra,
    }
    return client.post("/api/presets", payload, format="json")


def test_it_creates_lists_updates_and_deletes_presets(owner_client: APIClient, graph: dict) -> None:
    created = _preset(owner_client, graph)
    assert created.status_code == 201
    preset_id = created.json()["id"]
    listed = owner_client.get(f"/api/presets?graph_id={graph['id']}").json()
    assert [p["id"] for p in listed["data"]] == [preset_id]
    patched = owner_client.patch(
        f"/api/presets/{preset_id}", {"inputs": {"topic": "seals"}}, format="json"
    )
    assert patched.json()["inputs"] == {"topic": "seals"}
    assert owner_client.get(f"/api/presets/{preset_id}").json()["name"] == "Otters"
    assert owner_client.delete(f"/api/presets/{preset_id}").status_code == 204
    assert not Preset.objects.exists()


def test_a_preset_needs_a_version_that_exists(owner_client: APIClient, graph: dict) -> None:
    response = _preset(owner_client, graph, graph_version=7)
    assert response.status_code == 404
    assert not Preset.objects.exists()


def test_preset_inputs_obey_the_run_input_limits(owner_client: APIClient, graph: dict) -> None:
    deep: object = "x"
    for _ in range(12):
        deep = {"a": deep}
    response = _preset(owner_client, graph, inputs={"topic": deep})
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]


def test_another_users_presets_are_not_found(
    owner_client: APIClient, other_user: User, graph: dict
) -> None:
    preset_id = _preset(owner_client, graph).json()["id"]
    other = APIClient()
    other.force_authenticate(other_user)
    assert other.get(f"/api/presets/{preset_id}").status_code == 404
    assert other.patch(f"/api/presets/{preset_id}", {"name": "x"}, format="json").status_code == 404
    assert other.delete(f"/api/presets/{preset_id}").status_code == 404
    assert other.get("/api/presets").json()["total"] == 0
    # Nor can they attach a preset to a graph they cannot see.
    assert _preset(other, graph).status_code == 404
