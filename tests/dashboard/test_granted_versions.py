"""The dashboard reads graph versions through graphs' granted-version selector: a run row that
points at another user's private version (no grant) shows neither its name nor its drawing."""

import pytest
from django.test import Client

from apps.executions.models import ExecutionStatus, GraphExecution
from apps.users.models import User
from tests.dashboard.helpers import make_graph

pytestmark = pytest.mark.django_db


def test_a_run_of_an_ungranted_private_version_leaks_neither_name_nor_drawing(
    alice: Client, owner: User, other_user: User
) -> None:
    secret = make_graph(other_user)
    secret.name = "Bob's secret plan"
    secret.save(update_fields=["name"])
    run = GraphExecution.objects.create(
        graph_id=secret.graph_id,
        graph_version=secret.version,
        user=owner,
        status=ExecutionStatus.COMPLETED,
    )
    mine = make_graph(owner)
    mine.name = "Alice's own agent"
    mine.save(update_fields=["name"])
    GraphExecution.objects.create(
        graph_id=mine.graph_id,
        graph_version=mine.version,
        user=owner,
        status=ExecutionStatus.COMPLETED,
    )

    runs = alice.get("/runs").content.decode()
    assert "Alice&#x27;s own agent" in runs
    assert "secret plan" not in runs
    assert "(deleted)" in runs  # the row is the user's, the graph's name is not theirs to see
    assert alice.get(f"/runs/{run.pk}").status_code == 404
