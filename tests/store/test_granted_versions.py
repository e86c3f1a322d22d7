"""Granted versions (apps.graphs.selectors.graph_versions_granted): a user reads another user's
graph version only when the store grants it (the exact version of an agent in their library,
every submitted version for staff), never one of the creator's private versions."""

import pytest
from rest_framework.test import APIClient

from apps.common.exceptions import NotFound
from apps.graphs import selectors as graph_selectors
from apps.graphs.models import Graph
from apps.users.models import User
from tests.graphs.graphs import echo_graph
from tests.store.conftest import create_graph, publish, submit

pytestmark = pytest.mark.django_db


def _private_v2(creator_client: APIClient, graph_id: str) -> None:
    """The creator saves a version 2 with another input: never submitted, private to them."""
    document = echo_graph("Private v2")
    document["nodes"][0]["input_default"]["name"] = "secret_plan"
    response = creator_client.put(f"/api/graphs/{graph_id}", document, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2


def _library_agent(client: APIClient, listing_version_id: str) -> dict:
    response = client.post(
        "/api/library/agents", {"store_listing_version_id": listing_version_id}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_library_grants_its_exact_version_and_no_other(
    creator_client: APIClient,
    staff_client: APIClient,
    other_client: APIClient,
    other_user: User,
    stranger: User,
) -> None:
    published = publish(creator_client, staff_client)
    graph_id = published["graph_id"]
    _private_v2(creator_client, graph_id)
    with pytest.raises(NotFound):  # not yet in bob's library
        graph_selectors.graph_version_granted(user=other_user, graph_id=graph_id, version=1)
    _library_agent(other_client, published["id"])

    granted = graph_selectors.graph_version_granted(user=other_user, graph_id=graph_id, version=1)
    assert granted.name == "Echo agent"
    with pytest.raises(NotFound):
        graph_selectors.graph_version_granted(user=other_user, graph_id=graph_id, version=2)
    with pytest.raises(NotFound):  # the active version is the private one
        graph_selectors.graph_version_granted(user=other_user, graph_id=graph_id)
    with pytest.raises(NotFound):  # bob's library grants nothing to dave
        graph_selectors.graph_version_granted(user=stranger, graph_id=graph_id, version=1)
    readable = graph_selectors.graph_versions_granted(user=other_user).filter(graph_id=graph_id)
    assert list(readable.values_list("version", flat=True)) == [1]


def test_the_library_detail_and_fork_read_the_granted_version_not_the_creators_latest(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient, other_user: User
) -> None:
    published = publish(creator_client, staff_client)
    _private_v2(creator_client, published["graph_id"])
    agent = _library_agent(other_client, published["id"])

    detail = other_client.get(f"/api/library/agents/{agent['id']}")
    assert detail.status_code == 200
    assert list(detail.json()["input_schema"]["properties"]) == ["topic"]
    assert "secret_plan" not in detail.content.decode()

    fork = other_client.post(f"/api/library/agents/{agent['id']}/fork")
    assert fork.status_code == 201, fork.content
    copied = Graph.objects.get(user=other_user).versions.get()
    names = [node.input_default.get("name") for node in copied.nodes.all()]
    assert "topic" in names
    assert "secret_plan" not in names


def test_staff_read_submitted_versions_others_do_not(
    creator_client: APIClient, owner: User, staff: User, other_user: User
) -> None:
    graph = create_graph(creator_client)
    submit(creator_client, graph["id"])
    assert graph_selectors.graph_version_granted(user=staff, graph_id=graph["id"], version=1)
    with pytest.raises(NotFound):
        graph_selectors.graph_version_granted(user=other_user, graph_id=graph["id"], version=1)
    unsubmitted = create_graph(creator_client, "Never submitted")
    with pytest.raises(NotFound):
        graph_selectors.graph_version_granted(user=staff, graph_id=unsubmitted["id"], version=1)
    assert graph_selectors.graph_version_granted(user=owner, graph_id=unsubmitted["id"])
