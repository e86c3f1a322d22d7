"""The graph list's run statistics from the tallies beat folds (apps.executions.tally): after
every kind of change they equal what counting every run says, before and after a fold."""

import datetime
from typing import Any

import pytest
from django.db.models import Count, Max
from django.utils import timezone
from rest_framework.test import APIClient

from apps.executions import services
from apps.executions.models import ExecutionStatus, GraphExecution, GraphRunTally
from apps.executions.tally import graph_run_stats, run_tally_fold
from apps.executions.tasks import tally_fold
from apps.graphs.models import GraphVersion
from apps.users.models import User
from tests.dashboard.helpers import make_graph, make_queued_run
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db(transaction=True)

S = ExecutionStatus


def _counted(user: User, graph_ids: list[Any]) -> dict[Any, dict[str, Any]]:
    """The statistics by counting every run (what the tallies stand in for)."""
    answer = {}
    rows = (
        GraphExecution.objects.filter(user=user, graph_id__in=graph_ids, is_deleted=False)
        .values("graph_id", "status")
        .annotate(runs=Count("pk"), last=Max("created_at"))
    )
    for graph_id in graph_ids:
        mine = [row for row in rows if row["graph_id"] == graph_id]
        if not mine:
            continue
        finished = sum(r["runs"] for r in mine if r["status"] in (S.COMPLETED, S.FAILED, S.TIMEOUT))
        completed = sum(r["runs"] for r in mine if r["status"] == S.COMPLETED)
        answer[graph_id] = {
            "execution_count": sum(r["runs"] for r in mine),
            "last_execution_at": max(r["last"] for r in mine),
            "success_rate": completed / finished if finished else None,
        }
    return answer


def _run(user: User, version: GraphVersion, status: str, minutes_ago: int) -> GraphExecution:
    run = make_queued_run(user, version)
    when = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    GraphExecution.objects.filter(pk=run.pk).update(status=status, created_at=when)
    return GraphExecution.objects.get(pk=run.pk)


def _same(user: User, graph_ids: list[Any]) -> None:
    assert graph_run_stats(user=user, graph_ids=graph_ids) == _counted(user, graph_ids)


def test_the_statistics_equal_counting_every_run_through_folds_and_deletes(
    owner: User, other_user: User
) -> None:
    first, second = make_graph(owner, echo_graph("One")), make_graph(owner, echo_graph("Two"))
    ids = [first.graph_id, second.graph_id]
    runs = [
        _run(owner, first, status, minutes)
        for status, minutes in [
            (S.COMPLETED, 50),
            (S.FAILED, 40),
            (S.CANCELLED, 30),
            (S.RUNNING, 20),
            (S.COMPLETED, 10),
        ]
    ]
    _run(owner, second, S.TIMEOUT, 5)
    _run(other_user, make_graph(other_user), S.COMPLETED, 1)  # not theirs to count
    _same(owner, ids)

    assert run_tally_fold(batch=2) == 6  # three batches, the running run and nobody else's left
    assert GraphRunTally.objects.get(user=owner, graph_id=first.graph_id).runs == 4
    assert GraphExecution.objects.get(pk=runs[3].pk).tallied is False
    _same(owner, ids)
    assert graph_run_stats(user=owner, graph_ids=ids)[first.graph_id]["success_rate"] == 2 / 3

    GraphExecution.objects.filter(pk=runs[3].pk).update(status=S.COMPLETED)  # it finished
    newest = _run(owner, first, S.QUEUED, 0)  # after the fold: counted from its row
    _same(owner, ids)

    services.graph_execution_delete(user=owner, graph_exec_id=runs[4].pk)  # folded, the last
    services.graph_execution_delete(user=owner, graph_exec_id=newest.pk)  # not folded
    _same(owner, ids)
    assert run_tally_fold() == 1  # the one that finished; nothing twice
    assert run_tally_fold() == 0
    _same(owner, ids)
    stats = graph_run_stats(user=owner, graph_ids=ids)[first.graph_id]
    assert stats["execution_count"] == 4
    assert stats["last_execution_at"] == runs[3].created_at

    for run in runs[:4]:
        services.graph_execution_delete(user=owner, graph_exec_id=run.pk)
    assert first.graph_id not in graph_run_stats(user=owner, graph_ids=ids)  # no runs left
    _same(owner, ids)


def test_a_purge_that_takes_sub_agent_runs_counts_their_graph_again(owner: User) -> None:
    parent_graph, child_graph = make_graph(owner, echo_graph("Parent")), make_graph(owner)
    parent = _run(owner, parent_graph, S.COMPLETED, 60 * 24 * 90)
    child = _run(owner, child_graph, S.COMPLETED, 60 * 24 * 90)
    GraphExecution.objects.filter(pk=child.pk).update(parent=parent)
    _run(owner, child_graph, S.FAILED, 5)
    run_tally_fold()
    services.graph_execution_delete(user=owner, graph_exec_id=parent.pk)  # its child stays

    assert services.execution_cleanup()["purged"] == 2  # the parent, and with it the child
    assert not GraphExecution.objects.filter(pk=child.pk).exists()
    _same(owner, [parent_graph.graph_id, child_graph.graph_id])
    assert GraphRunTally.objects.get(graph_id=child_graph.graph_id).runs == 1


def test_the_graph_list_reads_the_same_before_and_after_a_fold(
    owner: User, owner_client: APIClient
) -> None:
    versions = [make_graph(owner, echo_graph(f"Agent {n}")) for n in range(3)]
    for n, version in enumerate(versions):
        for minutes in range(n + 2):
            _run(owner, version, S.COMPLETED if minutes % 2 else S.FAILED, minutes)

    before = owner_client.get("/api/graphs").json()
    assert tally_fold.apply().get() == 2 + 3 + 4  # beat's task (executions.tally_fold)
    after = owner_client.get("/api/graphs").json()
    assert after == before
    assert sorted(g["execution_count"] for g in after["data"]) == [2, 3, 4]
