"""`GET /api/graphs/{id}/run-check`: what a run would refuse, asked right after a save (the
builder marks it on the canvas); run inputs are not needed for it."""

from rest_framework.test import APIClient

from tests.graphs.graphs import INPUT, OUTPUT, PRINT, echo_graph, link, node


def _create(client: APIClient, payload: dict) -> dict:
    response = client.post("/api/graphs", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_it_is_empty_for_a_graph_that_can_run_without_its_run_inputs(
    owner_client: APIClient,
) -> None:
    graph = _create(owner_client, echo_graph())
    response = owner_client.get(f"/api/graphs/{graph['id']}/run-check")
    assert response.status_code == 200
    assert response.json() == {"node_errors": {}}


def test_it_names_the_node_and_pin_of_an_empty_required_input(owner_client: APIClient) -> None:
    unlinked = {
        "name": "Half done",
        "nodes": [node("in", INPUT, name="topic"), node("print", PRINT), node("out", OUTPUT)],
        "links": [link("print", "output", "out", "value")],
    }
    graph = _create(owner_client, unlinked)
    errors = owner_client.get(f"/api/graphs/{graph['id']}/run-check").json()["node_errors"]
    assert "required" in errors["print"]["text"]
    assert "required" in errors["out"]["name"]
    assert "in" not in errors  # its value comes with the run


def test_it_checks_the_version_asked_for(owner_client: APIClient) -> None:
    graph = _create(owner_client, echo_graph())
    broken = echo_graph()
    broken["links"] = broken["links"][1:]
    owner_client.put(f"/api/graphs/{graph['id']}", broken, format="json")
    first = owner_client.get(f"/api/graphs/{graph['id']}/run-check?version=1").json()
    second = owner_client.get(f"/api/graphs/{graph['id']}/run-check?version=2").json()
    assert first["node_errors"] == {}
    assert "text" in second["node_errors"]["print"]


def test_another_users_graph_is_not_found(owner_client: APIClient, other_user) -> None:
    graph = _create(owner_client, echo_graph())
    client = APIClient()
    client.force_authenticate(other_user)
    response = client.get(f"/api/graphs/{graph['id']}/run-check")
    assert response.status_code == 404
    assert response.json()["error"]["error_code"] == "NOT_FOUND"


def test_blocks_say_which_provider_credentials_they_use(owner_client: APIClient) -> None:
    blocks = owner_client.get("/api/blocks?page_size=100").json()["data"]
    providers = {block["name"]: block["credentials_provider"] for block in blocks}
    assert providers["AI Text Generator"] == "openai"
    assert providers["Print"] is None
