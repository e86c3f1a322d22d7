"""`python manage.py benchmark` against the real ASGI server and a real worker: it measures,
reports and leaves nothing behind."""

import json

import pytest
from django.core.management import call_command

from apps.executions.models import GraphExecution
from apps.graphs.models import Graph
from apps.users.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_the_benchmark_measures_a_running_platform_and_cleans_up(
    worker, asgi_server, capsys
) -> None:
    users_before = User.objects.count()
    call_command(
        "benchmark",
        url=asgi_server.url,
        runs=5,
        chain_runs=1,
        clients=2,
        seconds=1,
        json=True,
    )
    report = json.loads(capsys.readouterr().out)

    assert report["per_node_overhead_ms"] > 0
    latency = report["e2e_3_node"]
    assert 0 < latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"]
    throughput = report["throughput"]
    assert (throughput["clients"], throughput["errors"]) == (2, 0)
    assert throughput["runs_per_second"] > 0
    assert User.objects.count() == users_before
    assert not Graph.objects.exists()
    assert not GraphExecution.objects.exists()
