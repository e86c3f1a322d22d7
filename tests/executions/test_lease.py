"""Taking a run's lease under the per-graph cap (EXECUTION_MAX_RUNNING_PER_GRAPH): what each
outcome means for the run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.executions.models import GraphExecution
from apps.executions.worker.lease import lease_acquire
from apps.users.models import User
from tests.dashboard.helpers import make_graph, make_queued_run
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db


def test_the_cap_holds_a_run_back_until_a_lease_of_its_graph_ends(owner: User, settings) -> None:
    settings.EXECUTION_MAX_RUNNING_PER_GRAPH = 1
    version = make_graph(owner, echo_graph())
    first, second = make_queued_run(owner, version), make_queued_run(owner, version)
    other_graph = make_queued_run(owner, make_graph(owner, echo_graph("Other")))

    assert lease_acquire(first.pk, "worker-a", enforce_cap=True)[0] == "acquired"
    assert lease_acquire(second.pk, "worker-b", enforce_cap=True) == ("capped", None)
    assert GraphExecution.objects.get(pk=second.pk).status == "queued"
    assert lease_acquire(other_graph.pk, "worker-b", enforce_cap=True)[0] == "acquired"
    # A sub-agent's run is not held back by its graph's cap.
    assert lease_acquire(second.pk, "worker-b", enforce_cap=False)[0] == "acquired"
    GraphExecution.objects.filter(pk=second.pk).update(status="completed")

    third = make_queued_run(owner, version)
    assert lease_acquire(third.pk, "worker-b", enforce_cap=True)[0] == "capped"
    GraphExecution.objects.filter(pk=first.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    outcome, taken = lease_acquire(third.pk, "worker-b", enforce_cap=True)
    assert outcome == "acquired"
    assert (taken.lease_owner, taken.status, taken.attempts) == ("worker-b", "running", 1)


def test_a_run_leased_elsewhere_or_ended_is_not_taken(owner: User) -> None:
    run = make_queued_run(owner, make_graph(owner, echo_graph()))
    assert lease_acquire(run.pk, "worker-a", enforce_cap=True)[0] == "acquired"
    assert lease_acquire(run.pk, "worker-b", enforce_cap=True) == ("leased", None)
    # Its lease expired: another worker resumes it.
    GraphExecution.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert lease_acquire(run.pk, "worker-b", enforce_cap=True)[0] == "acquired"
    GraphExecution.objects.filter(pk=run.pk).update(status="completed")
    assert lease_acquire(run.pk, "worker-c", enforce_cap=True) == ("gone", None)
