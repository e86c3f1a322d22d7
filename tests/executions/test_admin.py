"""SPEC §1: staff administer executions in the admin: searchable lists of graph and node
executions, a read-only detail with the node executions, and a stop action."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.executions.models import ExecutionStatus, GraphExecution, NodeExecution
from apps.users.models import User
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_run(owner_client: APIClient) -> GraphExecution:
    """A run nobody picks up (no worker here): queued, with its entry node execution."""
    graph = owner_client.post("/api/graphs", echo_graph("Otter echo"), format="json").json()
    run = owner_client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "otters"}}, format="json"
    ).json()
    return GraphExecution.objects.get(pk=run["id"])


@pytest.fixture
def staff_browser(staff: User) -> Client:
    client = Client()
    client.force_login(staff)  # staff without any model permission granted
    return client


def test_it_lists_and_searches_runs_for_staff(
    staff_browser: Client, queued_run: GraphExecution, other_user: User
) -> None:
    listing = staff_browser.get("/admin/executions/graphexecution/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert str(queued_run.pk) in page
    assert "alice@example.com" in page
    for term in ("alice@example", "Otter echo", str(queued_run.pk)):
        found = staff_browser.get("/admin/executions/graphexecution/", {"q": term})
        assert str(queued_run.pk) in found.content.decode(), term
    missed = staff_browser.get("/admin/executions/graphexecution/", {"q": "bob@example"})
    assert str(queued_run.pk) not in missed.content.decode()
    queued = staff_browser.get("/admin/executions/graphexecution/", {"status__exact": "queued"})
    assert str(queued_run.pk) in queued.content.decode()


def test_it_shows_a_read_only_run_with_its_node_executions(
    staff_browser: Client, queued_run: GraphExecution
) -> None:
    detail = staff_browser.get(f"/admin/executions/graphexecution/{queued_run.pk}/change/")
    assert detail.status_code == 200
    page = detail.content.decode()
    node = NodeExecution.objects.get(graph_execution=queued_run)
    assert str(node.pk) in page  # the inline links each node execution
    assert 'name="_save"' not in page  # nothing to save
    edited = staff_browser.post(
        f"/admin/executions/graphexecution/{queued_run.pk}/change/", {"status": "completed"}
    )
    assert edited.status_code == 403
    nodes = staff_browser.get("/admin/executions/nodeexecution/", {"q": str(queued_run.pk)})
    assert str(node.pk) in nodes.content.decode()
    assert (
        staff_browser.get(f"/admin/executions/nodeexecution/{node.pk}/change/").status_code == 200
    )


def test_it_stops_live_runs_from_the_list(
    staff_browser: Client, queued_run: GraphExecution
) -> None:
    response = staff_browser.post(
        "/admin/executions/graphexecution/",
        {"action": "stop_runs", "_selected_action": [str(queued_run.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Asked 1 run(s) to stop" in response.content.decode()
    queued_run.refresh_from_db()
    assert queued_run.status == ExecutionStatus.CANCELLED
    assert not queued_run.node_executions.exclude(status=ExecutionStatus.CANCELLED).exists()


def test_it_keeps_the_executions_admin_for_staff(owner: User, queued_run) -> None:
    client = Client()
    client.force_login(owner)
    assert client.get("/admin/executions/graphexecution/").status_code == 302
    stop = client.post(
        "/admin/executions/graphexecution/",
        {"action": "stop_runs", "_selected_action": [str(queued_run.pk)]},
    )
    assert stop.status_code == 302  # to the admin's sign-in page
    queued_run.refresh_from_db()
    assert queued_run.status == ExecutionStatus.QUEUED
