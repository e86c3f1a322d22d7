"""Who may call what: API key permissions on the store and library, and bad input."""

import pytest
from rest_framework.test import APIClient

from apps.store.models import LibraryAgent, StoreListingVersion
from apps.users.models import User
from apps.users.services import api_key_create
from tests.store.conftest import create_graph, publish, submit

pytestmark = pytest.mark.django_db


def _key_client(user: User, *permissions: str) -> APIClient:
    _, plain = api_key_create(user=user, name="k", permissions=list(permissions))
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=plain)
    return client


def test_api_keys_need_read_store_to_browse_and_write_library_to_keep(
    other_user: User, creator_client: APIClient, staff_client: APIClient
) -> None:
    published = publish(creator_client, staff_client)
    reader = _key_client(other_user, "READ_STORE")
    assert reader.get("/api/store/agents").json()["total"] == 1
    assert reader.get("/api/store/creators/alice").status_code == 200
    add = {"store_listing_version_id": published["id"]}
    refused = reader.post("/api/library/agents", add, format="json")
    assert refused.status_code == 403
    assert "WRITE_LIBRARY" in refused.json()["error"]["message"]
    assert not LibraryAgent.objects.exists()
    keeper = _key_client(other_user, "READ_STORE", "WRITE_LIBRARY", "EXECUTE_GRAPH")
    assert keeper.post("/api/library/agents", add, format="json").status_code == 201
    graph_reader = _key_client(other_user, "READ_GRAPH")
    assert graph_reader.get("/api/store/agents").status_code == 403
    # Reviews and submissions need a signed-in user.
    review = keeper.post("/api/store/agents/alice/echo-agent/review", {"score": 3}, format="json")
    assert review.status_code == 403


def test_bad_input_gets_a_clear_error_never_a_500(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient
) -> None:
    graph = create_graph(creator_client)
    version = submit(creator_client, graph["id"])
    cases = [
        (creator_client.post, "/api/store/submissions", {"graph_id": "nope", "name": "x"}, 400),
        (creator_client.post, "/api/store/submissions", {"graph_id": graph["id"]}, 400),
        (
            creator_client.post,
            "/api/store/submissions",
            {"graph_id": graph["id"], "name": "x", "image_urls": ["ftp://x"]},
            400,
        ),
        (creator_client.put, f"/api/store/submissions/{version['id']}", {"graph_version": 9}, 404),
        (creator_client.put, "/api/store/submissions/not-a-uuid", {"name": "x"}, 404),
        (staff_client.post, "/api/admin/store/submissions/not-a-uuid/review", {}, 400),
        (
            staff_client.post,
            "/api/admin/store/submissions/00000000-0000-0000-0000-000000000000/review",
            {"is_approved": True},
            404,
        ),
        (other_client.post, "/api/library/agents", {"store_listing_version_id": "x"}, 400),
        (creator_client.put, "/api/store/profile", {"links": ["not a url"]}, 400),
    ]
    for call, url, body, expected in cases:
        response = call(url, body, format="json")
        assert response.status_code == expected, (url, body, response.content)
        assert response.json()["success"] is False
    assert other_client.get("/api/store/agents?page=0").status_code == 400
    assert (
        other_client.get("/api/store/agents?search=%22%27%20OR%201%3D1%20--%20&").status_code == 200
    )
    assert other_client.get("/api/store/agents?category=%22").json()["total"] == 0
    assert StoreListingVersion.objects.get().status == "pending"
