"""The figures behind the charts: an agent's 30 days for its owner, the platform's for staff."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from apps.credits.services import credit_apply
from apps.dashboard import analytics
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.models import Node
from apps.users.models import User
from tests.dashboard.helpers import make_graph, make_queued_run, signed_in
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)


def _run(user: User, graph, *, status: str, days_ago: int = 0, seconds: float = 1.0, cost: int = 0):
    run = make_queued_run(user, graph)
    created = NOW - datetime.timedelta(days=days_ago)
    GraphExecution.objects.filter(pk=run.pk).update(
        status=status,
        created_at=created,
        started_at=created,
        ended_at=created + datetime.timedelta(seconds=seconds),
        stats={"cost": cost},
    )
    return run


def test_an_agents_days_count_runs_failures_median_duration_and_credits(owner: User) -> None:
    graph = make_graph(owner, echo_graph("Otter echo"))
    today = timezone.localdate()
    _run(owner, graph, status="completed", seconds=1, cost=2)
    _run(owner, graph, status="completed", seconds=3, cost=4)
    _run(owner, graph, status="failed", seconds=10, cost=0)
    _run(owner, graph, status="completed", days_ago=2, seconds=2, cost=1)
    _run(owner, graph, status="completed", days_ago=40)  # outside the 30 days
    figures = analytics.agent_daily(user=owner, graph_id=graph.graph_id, today=today)
    assert len(figures["days"]) == 30
    assert figures["days"][-1] == today.isoformat()
    assert figures["series"][-1] == {
        "runs": 3,
        "failed": 1,
        "success_rate": 0.667,
        "median_seconds": 3.0,
        "credits_per_run": 2.0,
    }
    assert figures["series"][-3]["runs"] == 1
    assert figures["series"][-2] == {
        "runs": 0,
        "failed": 0,
        "success_rate": None,
        "median_seconds": None,
        "credits_per_run": None,
    }
    assert figures["total"]["runs"] == 4
    assert figures["total"]["median_seconds"] == 2.5


def test_the_platform_counts_every_users_runs_credits_queue_and_slow_blocks(
    owner: User, other_user: User
) -> None:
    graph = make_graph(owner, echo_graph("Otter echo"))
    theirs = make_graph(other_user, echo_graph("Beaver echo"))
    run = _run(owner, graph, status="completed")
    _run(other_user, theirs, status="failed")
    credit_apply(user_id=owner.pk, amount=-7, type="USAGE", transaction_key="node:a")
    waiting = make_queued_run(owner, graph)
    queued_at = timezone.now() - datetime.timedelta(hours=3)
    GraphExecution.objects.filter(pk=waiting.pk).update(created_at=queued_at)
    today = timezone.localdate()
    figures = analytics.platform_daily(today=today)
    # Between midnight and 03:00 the waiting run was queued yesterday.
    waiting_today = timezone.localdate(queued_at) == today
    assert figures["series"][-1] == {
        "runs": 2 + waiting_today,
        "failed": 1,
        "users": 2,
        "credits": 7,
    }
    assert sum(day["runs"] for day in figures["series"][-2:]) == 3

    queue = analytics.queue_depth()
    assert queue["now"] == 1
    assert len(queue["hours"]) == 48
    assert queue["waiting"][-1] == 1  # queued three hours ago, not started yet
    assert queue["waiting"][-5] == 0

    node = Node.objects.get(graph_version=graph, key="print")
    NodeExecution.objects.create(
        graph_execution=run,
        node=node,
        sequence=9,
        status="completed",
        started_at=NOW,
        ended_at=NOW + datetime.timedelta(seconds=2.5),
    )
    [slowest] = analytics.slowest_blocks()
    assert slowest["block_id"] == node.block_id
    assert slowest["average_seconds"] == 2.5
    assert slowest["longest_seconds"] == 2.5


def test_the_pages_and_their_json_are_the_owners_and_staffs(
    alice: Client, bob: Client, owner: User, staff: User
) -> None:
    graph = make_graph(owner, echo_graph("Otter echo"))
    _run(owner, graph, status="completed", seconds=2, cost=3)
    body = alice.get(f"/agents/{graph.graph_id}").content.decode()
    assert "Your runs, last 30 days" in body
    assert 'data-chart="agent-runs"' in body
    data = alice.get(f"/agents/{graph.graph_id}/analytics.json").json()
    assert data["total"]["runs"] == 1
    assert bob.get(f"/agents/{graph.graph_id}/analytics.json").status_code == 404

    assert alice.get("/platform").status_code == 404
    assert alice.get("/platform/analytics.json").status_code == 404
    charlie = signed_in(staff)
    page = charlie.get("/platform").content.decode()
    assert 'data-chart="queue-depth"' in page
    assert charlie.get("/platform/analytics.json").json()["series"][-1]["runs"] == 1
