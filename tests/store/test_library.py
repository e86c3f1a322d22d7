"""The library: agents from the store, kept without a copy, run and forked by their users."""

import pytest
from rest_framework.test import APIClient

from apps.executions import worker as run_worker
from apps.executions.models import GraphExecution
from apps.graphs.models import Graph
from apps.store.models import LibraryAgent
from apps.store.services import library_agent_run
from tests.graphs.graphs import AGENT, INPUT, OUTPUT, echo_graph, link, node
from tests.store.conftest import create_graph, publish, review, submit

pytestmark = pytest.mark.django_db


def _add(client: APIClient, listing_version_id: str) -> dict:
    response = client.post(
        "/api/library/agents", {"store_listing_version_id": listing_version_id}, format="json"
    )
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_adding_an_approved_version_keeps_a_pointer_not_a_copy(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient
) -> None:
    published = publish(creator_client, staff_client)
    graphs_before = Graph.objects.count()
    response = other_client.post(
        "/api/library/agents", {"store_listing_version_id": published["id"]}, format="json"
    )
    assert response.status_code == 201
    agent = response.json()
    assert Graph.objects.count() == graphs_before
    assert agent["graph_id"] == published["graph_id"]
    assert (agent["version"], agent["is_available"], agent["update_available"]) == (1, True, False)
    assert agent["creator"]["username"] == "alice"
    again = other_client.post(
        "/api/library/agents", {"store_listing_version_id": published["id"]}, format="json"
    )
    assert again.status_code == 200
    assert again.json()["id"] == agent["id"]
    detail = other_client.get(f"/api/library/agents/{agent['id']}").json()
    assert list(detail["input_schema"]["properties"]) == ["topic"]
    assert detail["output_names"] == ["answer"]


def test_the_graph_stays_read_only_to_library_users(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient
) -> None:
    published = publish(creator_client, staff_client)
    _add(other_client, published["id"])
    graph_id = published["graph_id"]
    assert other_client.get(f"/api/graphs/{graph_id}").status_code == 404
    edit = other_client.put(f"/api/graphs/{graph_id}", echo_graph("Hijacked"), format="json")
    assert edit.status_code == 404
    assert other_client.delete(f"/api/graphs/{graph_id}").status_code == 404
    response = other_client.post(f"/api/graphs/{graph_id}/execute", {}, format="json")
    assert response.status_code == 404
    assert other_client.post(f"/api/graphs/{graph_id}/fork").status_code == 404
    assert Graph.objects.get(pk=graph_id).versions.count() == 1


def test_favourite_archive_and_delete(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient
) -> None:
    first = _add(other_client, publish(creator_client, staff_client, "One")["id"])
    second = _add(other_client, publish(creator_client, staff_client, "Two")["id"])
    url = f"/api/library/agents/{first['id']}"
    assert other_client.patch(url, {"is_favorite": True}, format="json").json()["is_favorite"]
    names = [a["name"] for a in other_client.get("/api/library/agents").json()["data"]]
    assert names == ["One", "Two"]  # favourites first
    favourites = other_client.get("/api/library/agents?favorite=true").json()["data"]
    assert [a["id"] for a in favourites] == [first["id"]]
    other_client.patch(f"/api/library/agents/{second['id']}", {"is_archived": True}, format="json")
    assert other_client.get("/api/library/agents").json()["total"] == 1
    archived = other_client.get("/api/library/agents?archived=true").json()["data"]
    assert [a["id"] for a in archived] == [second["id"]]
    assert other_client.delete(url).status_code == 204
    assert other_client.get(url).status_code == 404
    assert LibraryAgent.objects.count() == 1


def test_nobody_else_reaches_a_library_agent(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient, stranger_client
) -> None:
    agent = _add(other_client, publish(creator_client, staff_client)["id"])
    url = f"/api/library/agents/{agent['id']}"
    assert stranger_client.get(url).status_code == 404
    assert stranger_client.patch(url, {"is_favorite": True}, format="json").status_code == 404
    assert stranger_client.post(f"{url}/execute", {}, format="json").status_code == 404
    assert stranger_client.post(f"{url}/fork").status_code == 404
    assert stranger_client.delete(url).status_code == 404
    assert stranger_client.get("/api/library/agents/not-a-uuid").status_code == 404
    assert LibraryAgent.objects.filter(is_favorite=False).count() == 1


def test_auto_update_follows_the_newest_approved_version(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient, stranger_client
) -> None:
    graph = create_graph(creator_client)
    first = submit(creator_client, graph["id"])
    review(staff_client, first["id"], True)
    following = _add(other_client, first["id"])
    pinned = _add(stranger_client, first["id"])
    stranger_client.patch(
        f"/api/library/agents/{pinned['id']}", {"auto_update": False}, format="json"
    )
    changed = {**echo_graph(), "name": "Echo 2"}
    assert (
        creator_client.put(f"/api/graphs/{graph['id']}", changed, format="json").status_code == 200
    )
    second = submit(creator_client, graph["id"], graph_version=2, name="Echo agent 2")
    review(staff_client, second["id"], True)

    mine = other_client.get(f"/api/library/agents/{following['id']}").json()
    assert (mine["version"], mine["graph_version"], mine["name"]) == (2, 2, "Echo agent 2")
    theirs = stranger_client.get(f"/api/library/agents/{pinned['id']}").json()
    assert (theirs["version"], theirs["update_available"]) == (1, True)
    updated = stranger_client.patch(
        f"/api/library/agents/{pinned['id']}", {"auto_update": True}, format="json"
    ).json()
    assert (updated["version"], updated["update_available"]) == (2, False)


def test_a_withdrawn_version_can_no_longer_be_run_or_forked(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient
) -> None:
    published = publish(creator_client, staff_client)
    agent = _add(other_client, published["id"])
    review(staff_client, published["id"], False, comments="Taken down")
    url = f"/api/library/agents/{agent['id']}"
    assert other_client.get(url).json()["is_available"] is False
    response = other_client.post(f"{url}/execute", {"inputs": {"topic": "x"}}, format="json")
    assert response.status_code == 404
    assert "withdrawn" in response.json()["error"]["message"]
    assert other_client.post(f"{url}/fork").status_code == 404


def test_forking_copies_the_graph_with_new_ids(
    owner, other_user, creator_client: APIClient, staff_client: APIClient, other_client: APIClient
) -> None:
    published = publish(creator_client, staff_client)
    agent = _add(other_client, published["id"])
    response = other_client.post(f"/api/library/agents/{agent['id']}/fork")
    assert response.status_code == 201, response.content
    fork = response.json()
    assert fork["id"] != published["graph_id"]
    assert fork["user_id"] == str(other_user.pk)
    assert (fork["forked_from_id"], fork["forked_from_version"]) == (published["graph_id"], 1)
    original = creator_client.get(f"/api/graphs/{published['graph_id']}").json()
    assert {n["id"] for n in fork["nodes"]}.isdisjoint({n["id"] for n in original["nodes"]})
    assert sorted(n["block_id"] for n in fork["nodes"]) == sorted(
        n["block_id"] for n in original["nodes"]
    )
    assert len(fork["links"]) == len(original["links"])
    # The fork is theirs to change.
    edited = other_client.put(
        f"/api/graphs/{fork['id']}", {**echo_graph(), "name": "My echo"}, format="json"
    )
    assert edited.status_code == 200
    assert Graph.objects.get(pk=published["graph_id"]).user == owner


def _parent_graph(child_id: str, *, linked: bool) -> dict:
    """input(topic) → Agent Executor(child) → output; with `linked`, the child's id comes from
    a second run input instead of the node's own defaults."""
    agent = node("agent", AGENT) if linked else node("agent", AGENT, graph_id=child_id)
    links = [
        link("in", "result", "agent", "inputs_#_topic"),
        link("agent", "outputs_#_answer", "out", "value"),
    ]
    nodes = [node("in", INPUT, name="topic"), agent, node("out", OUTPUT, name="answer")]
    if linked:
        nodes.append(node("which", INPUT, name="which"))
        links.append(link("which", "result", "agent", "graph_id"))
    return {"name": "Parent", "nodes": nodes, "links": links}


# Transactional: the Agent Executor runs in a thread of its own, with a connection of its own.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("linked", [False, True], ids=["named", "linked"])
def test_a_library_agent_runs_the_sub_agents_its_graph_names(
    creator_client: APIClient,
    staff_client: APIClient,
    other_client: APIClient,
    other_user,
    linked: bool,
) -> None:
    """The child graph stays private to its creator, yet a library user's run of the parent
    runs it, when the parent names it; a child id coming in through a link opens nothing."""
    child = create_graph(creator_client, "Private child")
    response = creator_client.post(
        "/api/graphs", _parent_graph(child["id"], linked=linked), format="json"
    )
    parent = response.json()
    version = submit(creator_client, parent["id"], name="Parent")
    review(staff_client, version["id"], True)
    agent = _add(other_client, version["id"])
    assert other_client.get(f"/api/graphs/{child['id']}").status_code == 404

    inputs = {"topic": "nested", **({"which": child["id"]} if linked else {})}
    run = library_agent_run(user=other_user, library_agent_id=agent["id"], inputs=inputs)
    run_worker.graph_execution_run(graph_exec_id=run.pk, owner="test")

    run.refresh_from_db()
    assert run.status == "completed", run.error_message
    agent_node = run.node_executions.get(node__key="agent")
    if linked:
        assert agent_node.status == "failed"
        assert "Graph not found" in agent_node.outputs.get(pin="error").value
        assert not GraphExecution.objects.filter(parent=run).exists()
        return
    assert run.outputs == {"answer": ["nested"]}
    sub_run = GraphExecution.objects.get(parent=run)
    assert (str(sub_run.graph_id), sub_run.user_id) == (child["id"], other_user.pk)
    assert sub_run.status == "completed"
