"""Deleting a graph while one of its runs writes a step: the deletion collects its runs' rows
only once it holds their run rows, and a worker's step, which raises its run's event counter,
waits for it. Without that, a step committed between the deletion's collecting and its
commit left rows the deletion had not collected, and the deletion failed on their foreign
keys (seen when a user was deleted with a run going, whose cascade collects the same rows;
PostgreSQL, where writers do not queue as they do on SQLite)."""

import psycopg
import pytest
from django.db import connection
from django.db.models.signals import pre_delete

from apps.executions.events import _BUMP  # what every step of a run's worker runs
from apps.executions.models import GraphExecution
from apps.graphs import services as graph_services
from apps.graphs.models import Graph
from apps.users.models import User
from tests.dashboard.helpers import make_graph, make_queued_run

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer"),
]


def test_a_runs_next_step_waits_for_its_graphs_deletion(owner: User) -> None:
    version = make_graph(owner)
    run = make_queued_run(owner, version)
    params = connection.get_connection_params()
    seen: list[str] = []

    def a_worker_steps_in(sender: object, **kwargs: object) -> None:
        """While the deletion runs: a worker's step on the run, from its own connection."""
        with psycopg.connect(**params, autocommit=True) as worker:
            worker.execute("SET lock_timeout = '300ms'")
            try:
                worker.execute(_BUMP, [1, run.pk])
                seen.append("stepped")
            except psycopg.errors.LockNotAvailable:
                seen.append("waited")

    pre_delete.connect(a_worker_steps_in, sender=Graph, dispatch_uid="test-step")
    try:
        graph_services.graph_delete(user=owner, graph_id=version.graph_id)
    finally:
        pre_delete.disconnect(sender=Graph, dispatch_uid="test-step")

    assert seen == ["waited"]
    assert not GraphExecution.objects.filter(pk=run.pk).exists()
