import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.graphs.models import GraphVersion
from apps.users.models import User
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root@example.com", "x-long-password-1")


def test_staff_browse_graphs_versions_and_the_block_library(
    owner_client: APIClient, superuser: User
) -> None:
    graph_id = owner_client.post("/api/graphs", echo_graph(), format="json").json()["id"]
    version = GraphVersion.objects.get(graph_id=graph_id)
    admin = Client()
    admin.force_login(superuser)
    listing = admin.get("/admin/graphs/graph/")
    assert listing.status_code == 200
    assert b"Echo" in listing.content
    detail = admin.get(f"/admin/graphs/graphversion/{version.pk}/change/")
    assert detail.status_code == 200
    assert b"print" in detail.content  # the node inline shows the node ids
    library = admin.get("/admin/blocks/")
    assert library.status_code == 200
    assert b"Agent Output" in library.content
    assert b"Block library" in admin.get("/admin/").content


def test_the_block_library_is_for_staff_only(owner: User) -> None:
    client = Client()
    client.force_login(owner)
    assert client.get("/admin/blocks/").status_code == 302
