"""events_record: a run's events stored in the caller's transaction with the `seq`s that follow
its counter (on PostgreSQL the counter's UPDATE and the INSERT are one statement)."""

import uuid

import pytest
from django.db import transaction

from apps.executions.events import events_record
from apps.executions.models import ExecutionEvent, GraphExecution
from apps.users.models import User
from tests.dashboard.helpers import make_graph, make_queued_run
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db


def test_events_follow_the_runs_counter_in_order(owner: User) -> None:
    run = make_queued_run(owner, make_graph(owner, echo_graph()), topic="x")
    before = GraphExecution.objects.get(pk=run.pk).event_seq
    entries = [("node_execution_event", {"n": n, "text": "50% 'quoted' {x}"}) for n in range(250)]

    with transaction.atomic():
        first = events_record(run.pk, entries[:1])
        rest = events_record(run.pk, entries[1:])

    assert first + rest == list(range(before + 1, before + 251))
    assert GraphExecution.objects.get(pk=run.pk).event_seq == before + 250
    stored = list(
        ExecutionEvent.objects.filter(graph_execution=run, seq__gt=before)
        .order_by("seq")
        .values_list("method", "data")
    )
    assert stored == entries


def test_a_run_that_is_gone_gets_no_events(owner: User) -> None:
    assert events_record(uuid.uuid4(), [("graph_execution_event", {"status": "completed"})]) == []
    assert not ExecutionEvent.objects.exists()
