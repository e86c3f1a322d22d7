"""Taking a run's lease serialises on its graph's row (the per-graph cap), but a run being created
for that graph meanwhile does not wait for it: its foreign key check takes KEY SHARE, which the
taking's NO KEY UPDATE lets through (FOR UPDATE did not: every start of a busy graph queued
behind the worker's taking)."""

import threading

import pytest
from django.db import connection, transaction

from apps.executions.worker.lease import lease_acquire
from apps.graphs.models import GraphVersion
from apps.users.models import User
from tests.dashboard.helpers import make_graph, make_queued_run
from tests.graphs.graphs import echo_graph

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no row locks"),
]


def test_a_run_is_created_while_another_run_of_its_graph_is_being_taken(owner: User) -> None:
    version: GraphVersion = make_graph(owner, echo_graph())
    first = make_queued_run(owner, version)
    taken, release = threading.Event(), threading.Event()
    outcome: list[str] = []

    def take() -> None:  # a worker's taking, its transaction held open
        try:
            with transaction.atomic():
                outcome.append(lease_acquire(first.pk, "worker-a", enforce_cap=True)[0])
                taken.set()
                release.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=take)
    worker.start()
    try:
        assert taken.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")  # FOR UPDATE: LockNotAvailable
            second = make_queued_run(owner, version)
    finally:
        release.set()
        worker.join()
    assert outcome == ["acquired"]
    assert second.status == "queued"
