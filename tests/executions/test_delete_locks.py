"""Deleting a graph, or a user, while one of their runs goes (a user: the benchmark's clean-up
after a phase that failed; the admin refuses users with runs or ledger entries): the deletion
collects what goes with it only once it holds their runs' rows (and a user's balance), so a
worker's next step (which raises its run's event counter) or charge (which takes the balance
first) waits for it and then finds the run gone. Without that, a row written between the
deletion's collecting and its commit failed the commit on its foreign key (PostgreSQL, where
writers do not queue as they do on SQLite)."""

import psycopg
import pytest
from django.db import connection
from django.db.models.signals import pre_delete

from apps.credits.models import UserBalance
from apps.executions.events import _BUMP  # what every step of a run's worker runs
from apps.executions.models import GraphExecution
from apps.graphs import services as graph_services
from apps.graphs.models import Graph
from apps.users.models import User
from apps.users.services import users_delete
from tests.dashboard.helpers import make_graph, make_queued_run

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer"),
]

_CHARGE = f"SELECT balance FROM {UserBalance._meta.db_table} WHERE user_id = %s FOR UPDATE"  # noqa: S608


def _meanwhile(statement: str, params: list[object], seen: list[str]):
    """A pre_delete receiver: while the deletion runs, a worker runs `statement` from its own
    connection; whether it went through or had to wait goes to `seen`."""
    connect = connection.get_connection_params()

    def worker_steps_in(sender: object, **kwargs: object) -> None:
        with psycopg.connect(**connect, autocommit=True) as worker:
            worker.execute("SET lock_timeout = '300ms'")
            try:
                worker.execute(statement, params)
                seen.append("went through")
            except psycopg.errors.LockNotAvailable:
                seen.append("waited")

    return worker_steps_in


def test_a_runs_next_step_waits_for_its_graphs_deletion(owner: User) -> None:
    version = make_graph(owner)
    run = make_queued_run(owner, version)
    seen: list[str] = []
    receiver = _meanwhile(_BUMP, [1, run.pk], seen)  # held here: signals keep weak references
    pre_delete.connect(receiver, sender=Graph, dispatch_uid="test")
    try:
        graph_services.graph_delete(user=owner, graph_id=version.graph_id)
    finally:
        pre_delete.disconnect(sender=Graph, dispatch_uid="test")

    assert seen == ["waited"]
    assert not GraphExecution.objects.filter(pk=run.pk).exists()


@pytest.mark.parametrize("what", ["step", "charge"])
def test_a_runs_next_step_or_charge_waits_for_its_users_deletion(owner: User, what: str) -> None:
    run = make_queued_run(owner, make_graph(owner))
    assert UserBalance.objects.filter(user=owner).exists()  # the sign-up grant made it
    statement, params = (_BUMP, [1, run.pk]) if what == "step" else (_CHARGE, [owner.pk])
    seen: list[str] = []
    receiver = _meanwhile(statement, params, seen)  # held here: signals keep weak references
    pre_delete.connect(receiver, sender=User, dispatch_uid="test")
    try:
        assert users_delete(user_ids=[owner.pk]) == 1
    finally:
        pre_delete.disconnect(sender=User, dispatch_uid="test")

    assert seen == ["waited"]
    assert not User.objects.filter(pk=owner.pk).exists()
    assert not GraphExecution.objects.filter(pk=run.pk).exists()
