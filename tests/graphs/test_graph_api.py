import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.graphs.models import Graph, GraphVersion
from apps.users.models import User
from apps.users.services import api_key_create
from tests.graphs.graphs import INPUT, NOTE, OUTPUT, PRINT, echo_graph, link, node

pytestmark = pytest.mark.django_db


def _create(client: APIClient, payload: dict | None = None) -> dict:
    response = client.post("/api/graphs", payload or echo_graph(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_it_creates_a_graph_keeping_the_clients_node_ids(
    owner_client: APIClient, owner: User
) -> None:
    body = _create(owner_client)
    assert body["version"] == 1
    assert body["is_active"] is True
    assert body["user_id"] == str(owner.id)
    assert [n["id"] for n in body["nodes"]] == ["in", "print", "out"]
    assert [n["node_type"] for n in body["nodes"]] == ["input", "standard", "output"]
    assert {(lk["source_id"], lk["sink_id"]) for lk in body["links"]} == {
        ("in", "print"),
        ("print", "out"),
    }
    assert body["input_schema"]["properties"]["topic"]["title"] == "topic"
    assert body["input_schema"]["required"] == ["topic"]
    assert body["output_names"] == ["answer"]


def test_links_from_input_blocks_are_static(owner_client: APIClient) -> None:
    links = {lk["source_id"]: lk["is_static"] for lk in _create(owner_client)["links"]}
    assert links == {"in": True, "print": False}


def test_put_saves_a_new_active_version(owner_client: APIClient) -> None:
    graph = _create(owner_client)
    changed = echo_graph("Echo v2")
    response = owner_client.put(f"/api/graphs/{graph['id']}", changed, format="json")
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["name"]) == (2, "Echo v2")
    versions = owner_client.get(f"/api/graphs/{graph['id']}/versions").json()["data"]
    assert [(v["version"], v["is_active"]) for v in versions] == [(2, True), (1, False)]
    assert owner_client.get(f"/api/graphs/{graph['id']}").json()["name"] == "Echo v2"
    assert owner_client.get(f"/api/graphs/{graph['id']}?version=1").json()["name"] == "Echo"
    assert owner_client.get(f"/api/graphs/{graph['id']}/versions/1").json()["version"] == 1


def test_an_older_version_can_be_pinned_active(owner_client: APIClient) -> None:
    graph = _create(owner_client)
    owner_client.put(f"/api/graphs/{graph['id']}", echo_graph("v2"), format="json")
    response = owner_client.put(
        f"/api/graphs/{graph['id']}/versions/active", {"active_graph_version": 1}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["node_count"]) == (1, 3)
    assert owner_client.get(f"/api/graphs/{graph['id']}").json()["version"] == 1
    latest = owner_client.get(f"/api/graphs/{graph['id']}?version=latest").json()
    assert (latest["version"], latest["is_active"]) == (2, False)
    assert owner_client.get(f"/api/graphs/{graph['id']}?version=two").status_code == 400
    assert GraphVersion.objects.filter(graph_id=graph["id"], is_active=True).count() == 1
    missing = owner_client.put(
        f"/api/graphs/{graph['id']}/versions/active", {"active_graph_version": 9}, format="json"
    )
    assert missing.status_code == 404


def test_delete_removes_every_version(owner_client: APIClient) -> None:
    graph = _create(owner_client)
    owner_client.put(f"/api/graphs/{graph['id']}", echo_graph("v2"), format="json")
    assert owner_client.delete(f"/api/graphs/{graph['id']}").status_code == 204
    assert not GraphVersion.objects.filter(graph_id=graph["id"]).exists()
    assert owner_client.get(f"/api/graphs/{graph['id']}").status_code == 404


def test_one_active_version_is_a_database_constraint(owner_client: APIClient) -> None:
    from django.db import IntegrityError, transaction

    graph = _create(owner_client)
    owner_client.put(f"/api/graphs/{graph['id']}", echo_graph("v2"), format="json")
    with pytest.raises(IntegrityError), transaction.atomic():
        GraphVersion.objects.filter(graph_id=graph["id"]).update(is_active=True)


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_get_distinct_versions_and_one_active(owner: User) -> None:
    client = APIClient()
    client.force_authenticate(owner)
    graph = _create(client)
    statuses: list[int] = []

    def save(index: int) -> None:
        own = APIClient()
        own.force_authenticate(owner)
        try:
            response = own.put(f"/api/graphs/{graph['id']}", echo_graph(f"v{index}"), format="json")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    versions = list(
        GraphVersion.objects.filter(graph_id=graph["id"]).values_list("version", flat=True)
    )
    assert sorted(versions) == list(range(1, 10))
    active = GraphVersion.objects.filter(graph_id=graph["id"], is_active=True)
    assert active.count() == 1
    assert active.get().version == 9


def test_export_strips_secret_pins_and_imports_with_new_ids(
    owner_client: APIClient, monkeypatch
) -> None:
    from apps.graphs.blocks.library.basic import PrintBlock

    graph = _create(owner_client)
    # Pretend Print's `text` pin were a secret, as an API-key pin of an integration block is.
    monkeypatch.setattr(PrintBlock, "secret_inputs", classmethod(lambda cls: {"text"}))
    owner_client.put(
        f"/api/graphs/{graph['id']}",
        {
            **echo_graph(),
            "nodes": [
                *echo_graph()["nodes"][:1],
                node("print", PRINT, text="sk-secret"),
                echo_graph()["nodes"][2],
            ],
        },
        format="json",
    )
    exported = owner_client.get(f"/api/graphs/{graph['id']}/export")
    assert exported.status_code == 200
    assert "sk-secret" not in exported.content.decode()
    document = exported.json()
    imported = owner_client.post("/api/graphs/import", document, format="json")
    assert imported.status_code == 201
    body = imported.json()
    assert body["id"] != graph["id"]
    new_ids = {n["id"] for n in body["nodes"]}
    assert new_ids.isdisjoint({"in", "print", "out"})
    assert {(lk["source_id"], lk["sink_id"]) for lk in body["links"]} <= {
        (a, b) for a in new_ids for b in new_ids
    }
    assert len(body["links"]) == 2


def test_fork_copies_with_new_ids_and_remembers_the_source(owner_client: APIClient) -> None:
    graph = _create(owner_client)
    response = owner_client.post(f"/api/graphs/{graph['id']}/fork")
    assert response.status_code == 201
    fork = response.json()
    assert fork["id"] != graph["id"]
    assert (fork["forked_from_id"], fork["forked_from_version"]) == (graph["id"], 1)
    assert {n["id"] for n in fork["nodes"]}.isdisjoint({"in", "print", "out"})


def test_another_users_graph_is_not_found_on_every_endpoint(
    owner_client: APIClient, other_user: User
) -> None:
    other = APIClient()
    other.force_authenticate(other_user)
    theirs = _create(other)["id"]
    base = f"/api/graphs/{theirs}"
    responses = [
        owner_client.get(base),
        owner_client.put(base, echo_graph(), format="json"),
        owner_client.delete(base),
        owner_client.get(f"{base}/versions"),
        owner_client.get(f"{base}/versions/1"),
        owner_client.put(f"{base}/versions/active", {"active_graph_version": 1}, format="json"),
        owner_client.get(f"{base}/export"),
        owner_client.post(f"{base}/fork"),
        owner_client.get(f"{base}/analysis"),
        owner_client.get(f"{base}/cost-estimate"),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert owner_client.get("/api/graphs").json()["total"] == 0
    assert Graph.objects.get(pk=theirs).versions.count() == 1


def test_templates_are_visible_and_forkable_but_not_editable(
    owner_client: APIClient, staff: User
) -> None:
    staff_client = APIClient()
    staff_client.force_authenticate(staff)
    template = _create(staff_client, {**echo_graph("Template"), "is_template": True})
    assert owner_client.get(f"/api/graphs/{template['id']}").status_code == 200
    listed = owner_client.get("/api/graphs?templates=true").json()
    assert [g["id"] for g in listed["data"]] == [template["id"]]
    edit = owner_client.put(f"/api/graphs/{template['id']}", echo_graph(), format="json")
    assert edit.status_code == 403
    assert owner_client.delete(f"/api/graphs/{template['id']}").status_code == 403
    assert owner_client.post(f"/api/graphs/{template['id']}/fork").status_code == 201
    assert GraphVersion.objects.filter(graph_id=template["id"]).count() == 1


def test_only_staff_publish_templates(owner_client: APIClient) -> None:
    response = owner_client.post(
        "/api/graphs", {**echo_graph(), "is_template": True}, format="json"
    )
    assert response.status_code == 403
    assert not Graph.objects.exists()


def test_the_list_takes_a_constant_number_of_queries(owner_client: APIClient) -> None:
    _create(owner_client)
    with CaptureQueriesContext(connection) as one_graph:
        owner_client.get("/api/graphs")
    for index in range(15):
        _create(owner_client, echo_graph(f"G{index}"))
    with CaptureQueriesContext(connection) as many_graphs:
        body = owner_client.get("/api/graphs?page_size=100").json()
    assert len(one_graph) == len(many_graphs) <= 3
    assert body["total"] == 16
    assert {g["node_count"] for g in body["data"]} == {3}


def test_analysis_reports_depth_batches_and_width(owner_client: APIClient) -> None:
    payload = {
        "name": "Diamond",
        "nodes": [
            node("a", INPUT, name="x"),
            node("b", PRINT),
            node("c", PRINT),
            node("d", OUTPUT, name="y"),
            node("note", NOTE, text="hi"),
        ],
        "links": [
            link("a", "result", "b", "text"),
            link("a", "result", "c", "text"),
            link("b", "output", "d", "value"),
        ],
    }
    graph = _create(owner_client, payload)
    body = owner_client.get(f"/api/graphs/{graph['id']}/analysis").json()
    assert body["node_count"] == 4
    assert body["link_count"] == 3
    assert body["execution_batches"] == [["a"], ["b", "c"], ["d"]]
    assert body["max_depth"] == 3
    assert body["parallel_branches"] == 2
    assert body["suggestions"] == []


def test_cost_estimate_is_zero_for_free_blocks(owner_client: APIClient) -> None:
    graph = _create(owner_client)
    body = owner_client.get(f"/api/graphs/{graph['id']}/cost-estimate").json()
    assert body == {"total_credits": 0, "node_costs": {}}


def test_api_keys_need_graph_permissions(owner: User) -> None:
    _, reader = api_key_create(user=owner, name="r", permissions=["READ_GRAPH"])
    client = APIClient(HTTP_X_API_KEY=reader)
    assert client.get("/api/graphs").status_code == 200
    assert client.post("/api/graphs", echo_graph(), format="json").status_code == 403
    _, writer = api_key_create(user=owner, name="w", permissions=["WRITE_GRAPH"])
    assert (
        APIClient(HTTP_X_API_KEY=writer)
        .post("/api/graphs", echo_graph(), format="json")
        .status_code
        == 201
    )


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_graph_ids_are_404(owner_client: APIClient, bad_id: str) -> None:
    response = owner_client.get(f"/api/graphs/{bad_id}")
    assert response.status_code == 404
    assert response.json()["error"]["error_code"] == "NOT_FOUND"
