"""Celery entry points of executions: thin, idempotent, named explicitly."""

import os
import socket
import threading

from celery import shared_task
from django.conf import settings

from apps.common.logging import execution_context
from apps.executions import idempotency, reviews, services, tally, worker
from apps.graphs.runnable import MAX_TIME_LIMIT_SECONDS  # the longest a graph may set


@shared_task(
    name="executions.run_graph",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # The engine ends an over-long run itself (`timeout`); these limits only catch a wedged
    # worker, so they sit above the longest time limit a graph may set.
    soft_time_limit=max(settings.EXECUTION_TIME_LIMIT_SECONDS, MAX_TIME_LIMIT_SECONDS) + 60,
    time_limit=max(settings.EXECUTION_TIME_LIMIT_SECONDS, MAX_TIME_LIMIT_SECONDS) + 120,
)
def run_graph(graph_exec_id: str) -> None:
    """Run or resume one graph execution. A redelivered message has no second effect: the run's
    lease and its persisted node executions decide what (if anything) is left to do."""
    # Per thread: a threads pool runs several runs in one process, and a lease renewal must
    # never pass for another thread's after a stalled one lost the run.
    owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_native_id()}"
    with execution_context(graph_exec_id):
        worker.graph_execution_run(graph_exec_id=graph_exec_id, owner=owner)


@shared_task(name="executions.watchdog", ignore_result=True, time_limit=120)
def watchdog() -> dict[str, int]:
    """Re-enqueue stuck runs, resume or fail orphaned ones, re-publish final events."""
    return worker.execution_watchdog()


@shared_task(name="executions.rescue", ignore_result=True, time_limit=60)
def rescue() -> dict[str, int]:
    """Resume runs whose worker was lost, as soon as their lease expires."""
    return worker.execution_rescue()


@shared_task(name="executions.cleanup", ignore_result=True, time_limit=600)
def cleanup() -> dict[str, int]:
    """Expire old share links and remove long soft-deleted runs."""
    return services.execution_cleanup()


@shared_task(name="executions.review_timeouts", ignore_result=True, time_limit=300)
def review_timeouts() -> int:
    """Human reviews nobody decided in time end `timed_out`; their runs resume."""
    return reviews.review_timeouts()


@shared_task(name="executions.idempotency_cleanup", ignore_result=True, time_limit=300)
def idempotency_cleanup() -> int:
    """Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS are removed (SPEC §17)."""
    return idempotency.idempotency_keys_cleanup()


@shared_task(name="executions.tally_fold", ignore_result=True, time_limit=300)
def tally_fold() -> int:
    """Finished runs are counted into their graph's run statistics (apps.executions.tally)."""
    return tally.run_tally_fold()
