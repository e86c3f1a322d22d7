"""Personas of the store: alice creates, charlie (staff) reviews, bob browses and runs,
dave is a stranger to all of it."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.users.models import User
from tests.factories import UserFactory
from tests.graphs.graphs import echo_graph


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def creator_client(owner: User) -> APIClient:
    return client_for(owner)


@pytest.fixture
def other_client(other_user: User) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def staff_client(staff: User) -> APIClient:
    return client_for(staff)


@pytest.fixture
def stranger(db) -> User:
    return UserFactory(email="dave@example.com", name="Dave")


@pytest.fixture
def stranger_client(stranger: User) -> APIClient:
    return client_for(stranger)


def create_graph(client: APIClient, name: str = "Echo") -> dict[str, Any]:
    response = client.post("/api/graphs", echo_graph(name), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def submit(client: APIClient, graph_id: str, **fields: Any) -> dict[str, Any]:
    body = {"graph_id": graph_id, "name": "Echo agent", "sub_heading": "Says it back", **fields}
    response = client.post("/api/store/submissions", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def review(staff_client: APIClient, version_id: str, approve: bool, **comments: str) -> dict:
    response = staff_client.post(
        f"/api/admin/store/submissions/{version_id}/review",
        {"is_approved": approve, **comments},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def publish(
    creator: APIClient, staff: APIClient, name: str = "Echo agent", **fields: Any
) -> dict[str, Any]:
    """A new graph of the creator's, submitted and approved: its submission body."""
    graph = create_graph(creator, name)
    version = submit(creator, graph["id"], name=name, **fields)
    review(staff, version["id"], True)
    return version
