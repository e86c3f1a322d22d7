"""The lists at scale: `seed_history` makes a history, and every list endpoint and page answers
it with a number of queries that does not grow with the number of runs."""

import datetime
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.executions.benchmark_lists import list_paths, measure_lists
from apps.executions.models import GraphExecution, NodeExecution, NodeExecutionOutput
from apps.executions.seed import seed_history, seed_history_reset, seeded_user

pytestmark = pytest.mark.django_db


def _seed(runs: int) -> None:
    seed_history(runs=runs, node_executions=runs * 6, days=30, graphs=3, big_run_nodes=40)
    # Every filtered list has a row, so no count of zero spares a query either time.
    last = GraphExecution.objects.filter(user=seeded_user()).order_by("created_at").last()
    GraphExecution.objects.filter(pk=last.pk).update(status="failed")


def _queries(paths: list[tuple[str, str]]) -> dict[str, int]:
    client = Client()
    client.force_login(seeded_user())
    counts = {}
    for name, path in paths:
        client.get(path)  # the first request of a session may save it
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (path, response.content[:300])
        counts[name] = len(queries.captured_queries)
    return counts


def test_the_seed_makes_a_history_once_spread_over_the_days_with_one_big_run() -> None:
    report = seed_history(runs=30, node_executions=300, days=30, graphs=4, big_run_nodes=50)
    user = seeded_user()
    runs = GraphExecution.objects.filter(user=user)
    assert runs.count() == 30 == report.runs
    assert runs.values("graph_id").distinct().count() == 5
    assert NodeExecution.objects.filter(graph_execution__user=user).count() == (
        report.node_executions
    )
    assert NodeExecution.objects.filter(graph_execution_id=report.big_run_id).count() == 50
    assert report.node_executions == 50 + 29 * 9  # (300 - 50) / 29 rounds to 9 per run
    assert NodeExecutionOutput.objects.filter(node_execution__graph_execution__user=user).exists()
    assert set(runs.values_list("status", flat=True)) <= {
        "completed",
        "failed",
        "cancelled",
        "timeout",
    }
    oldest = runs.order_by("created_at").first().created_at
    assert oldest > datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30, minutes=1)
    with pytest.raises(CommandError, match="already seeded"):
        call_command("seed_history", runs=10)
    assert runs.count() == 30
    assert seed_history_reset() == 30
    assert seeded_user() is None
    assert not GraphExecution.objects.exists()


def test_lists_and_pages_ask_as_many_queries_for_50_runs_as_for_5(
    django_assert_max_num_queries,
) -> None:
    _seed(5)
    few = _queries(list_paths(seeded_user()))
    seed_history_reset()
    _seed(50)
    paths = list_paths(seeded_user())
    assert {name for name, _ in paths} == set(few)
    many = _queries(paths)
    assert many == few
    client = Client()
    client.force_login(seeded_user())
    for name, path in paths:
        with django_assert_max_num_queries(few[name]):
            client.get(path)
    assert max(few.values()) <= 20  # the agent page reads the most: its ~15 sections


def test_the_lists_benchmark_times_every_list(capsys) -> None:
    _seed(20)
    timings = measure_lists(user=seeded_user(), repeats=2)
    assert {t.name for t in timings} == {name for name, _ in list_paths(seeded_user())}
    assert all(t.status == 200 and 0 < t.p50_ms <= t.p95_ms <= t.max_ms for t in timings)
    call_command("benchmark", lists=True, repeats=1, json=True)
    assert '"api graphs with statistics"' in capsys.readouterr().out


def test_the_lists_benchmark_explains_a_missing_history() -> None:
    with pytest.raises(CommandError, match="seed_history"):
        call_command("benchmark", lists=True)


def _api() -> Client:
    client = Client()
    client.force_login(seeded_user())
    return client


def test_a_run_and_its_results_are_built_as_the_serializers_would() -> None:
    from apps.executions import selectors
    from apps.executions.api.serializers import GraphExecutionDetailSerializer

    report = seed_history(runs=5, node_executions=30, graphs=2, big_run_nodes=12)
    user = seeded_user()
    detailed = selectors.graph_execution_get_detailed(user=user, graph_exec_id=report.big_run_id)
    expected = GraphExecutionDetailSerializer(detailed).data
    client = _api()
    answer = client.get(f"/api/executions/{report.big_run_id}").json()
    assert answer == json.loads(json.dumps(expected))
    assert len(answer["node_executions"]) == 12
    assert [n["sequence"] for n in answer["node_executions"]] == list(range(1, 13))
    results = client.get(f"/api/executions/{report.big_run_id}/results").json()
    assert [n["node_exec_id"] for n in results["nodes"]] == [
        n["id"] for n in answer["node_executions"]
    ]
    assert results["nodes"][1]["output"] == answer["node_executions"][1]["output_data"]
    assert results["output"] == answer["outputs"]


def test_run_lists_follow_a_cursor_and_estimate_a_total_past_the_exact_limit(
    monkeypatch,
) -> None:
    from apps.executions import selectors

    seed_history(runs=45, node_executions=90, graphs=2, big_run_nodes=2)
    client = _api()
    everything = [
        run["id"]
        for page in (1, 2, 3)
        for run in client.get(f"/api/executions?page={page}&page_size=20").json()["data"]
    ]
    assert len(everything) == len(set(everything)) == 45
    first = client.get("/api/executions?page_size=20").json()
    assert (first["total"], first["total_is_estimate"], first["total_pages"]) == (45, False, 3)
    followed, cursor = list(first["data"]), first["next_cursor"]
    while cursor:
        page = client.get(f"/api/executions?page_size=20&cursor={cursor}").json()
        assert page["total"] == 45
        followed += page["data"]
        cursor = page["next_cursor"]
    assert [run["id"] for run in followed] == everything
    # A deep page by number reads its ids first: the same runs.
    monkeypatch.setattr(selectors, "DEEP_OFFSET", 10)
    assert [r["id"] for r in client.get("/api/executions?page=2&page_size=20").json()["data"]] == (
        everything[20:40]
    )
    # Past the exact limit the total is PostgreSQL's estimate (other databases count).
    monkeypatch.setattr(selectors, "EXACT_COUNT_LIMIT", 10)
    answer = client.get("/api/executions").json()
    assert answer["total_is_estimate"] is (connection.vendor == "postgresql")
    assert answer["total"] >= 11
    bad = client.get("/api/executions?cursor=not-a-cursor")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["fields"] == {"cursor": "not-a-cursor"}
