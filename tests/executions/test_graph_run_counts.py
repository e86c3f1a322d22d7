"""GraphRunCount, kept by the database's triggers, always says what the user's runs say
(issue 23: the graph list read it instead of scanning the history). Checked against the
history itself after every kind of change a run goes through, on SQLite and PostgreSQL."""

import datetime
from typing import Any

import pytest
from django.db.models import Count, Max, Q
from django.utils import timezone

from apps.executions.models import GraphExecution, GraphRunCount
from apps.executions.selectors import graph_run_stats
from apps.graphs import services as graph_services
from apps.users.models import User
from tests.dashboard.helpers import make_graph, make_queued_run
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db

FINISHED = ("completed", "failed", "timeout")


def _from_history(user: User, graph_id: Any) -> dict[str, Any]:
    """The statistics as the graph list computed them before: from every live run."""
    figures = GraphExecution.objects.filter(
        user=user, graph_id=graph_id, is_deleted=False
    ).aggregate(
        runs=Count("pk"),
        finished=Count("pk", filter=Q(status__in=FINISHED)),
        completed=Count("pk", filter=Q(status="completed")),
        last=Max("created_at"),
    )
    return {
        "execution_count": figures["runs"],
        "last_execution_at": figures["last"],
        "success_rate": figures["completed"] / figures["finished"] if figures["finished"] else None,
    }


def _agrees(user: User, graph_id: Any) -> dict[str, Any]:
    kept = graph_run_stats(user=user, graph_ids=[graph_id]).get(graph_id)
    expected = _from_history(user, graph_id)
    if expected["execution_count"] == 0:
        assert kept is None
    else:
        assert kept == expected
    return expected


def _set(run: GraphExecution, **fields: Any) -> None:
    GraphExecution.objects.filter(pk=run.pk).update(**fields)


def test_the_counts_follow_every_change_of_a_run(owner: User, other_user: User) -> None:
    graph = make_graph(owner, echo_graph())
    gid = graph.graph_id
    assert _agrees(owner, gid)["execution_count"] == 0
    runs = [make_queued_run(owner, graph) for _ in range(5)]
    for index, run in enumerate(runs):  # distinct creation times, the last one newest
        _set(run, created_at=timezone.now() - datetime.timedelta(minutes=10 - index))
    assert _agrees(owner, gid)["execution_count"] == 5

    _set(runs[0], status="running")
    _set(runs[0], status="completed")
    _set(runs[1], status="running")
    _set(runs[1], status="failed")
    _set(runs[2], status="timeout")
    _set(runs[3], status="cancelled")  # not finished: no part of the success rate
    assert _agrees(owner, gid)["success_rate"] == pytest.approx(1 / 3)

    _set(runs[4], is_deleted=True)  # the newest: the next newest takes its place
    assert (
        _agrees(owner, gid)["last_execution_at"]
        == GraphExecution.objects.get(pk=runs[3].pk).created_at
    )
    _set(runs[0], is_deleted=True)  # a finished one
    _set(runs[0], status="failed")  # a deleted run's changes count for nothing
    assert _agrees(owner, gid)["execution_count"] == 3
    _set(runs[4], is_deleted=False)  # back again
    assert _agrees(owner, gid)["execution_count"] == 4

    GraphExecution.objects.filter(pk=runs[3].pk).delete()
    GraphExecution.objects.filter(pk=runs[1].pk).delete()
    assert _agrees(owner, gid)["execution_count"] == 2

    # Another user's runs of the same graph (an agent in their library) count for them only.
    GraphExecution.objects.create(
        user=other_user, graph_id=gid, graph_version=graph.version, status="queued"
    )
    assert _agrees(other_user, gid)["execution_count"] == 1
    assert _agrees(owner, gid)["execution_count"] == 2

    GraphExecution.objects.filter(pk__in=[runs[2].pk, runs[4].pk]).delete()
    assert _agrees(owner, gid)["execution_count"] == 0
    graph_services.graph_delete(user=owner, graph_id=gid)
    assert not GraphRunCount.objects.filter(graph_id=gid).exists()


def test_the_graph_list_shows_the_counts(owner: User, owner_client) -> None:
    graph = make_graph(owner, echo_graph())
    for status in ("completed", "completed", "failed"):
        _set(make_queued_run(owner, graph), status=status)
    [listed] = owner_client.get("/api/graphs").json()["data"]
    assert listed["execution_count"] == 3
    assert listed["success_rate"] == pytest.approx(2 / 3)
