"""The watchdog (beat, SPEC §6): no run stays stuck and no final event is lost."""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from apps.common.redis import get_redis
from apps.executions.events import final_event_sent_key, graph_execution_final_event
from apps.executions.lifecycle import RESUME_QUEUE, enqueue_run
from apps.executions.models import ExecutionStatus, GraphExecution
from apps.executions.worker.ending import give_up
from apps.executions.worker.session import INTERRUPTED
from apps.realtime.events import publish

logger = logging.getLogger(__name__)


def execution_watchdog() -> dict[str, int]:
    """- `queued` runs enqueued long ago are enqueued again (their message may be lost; a
      duplicate is harmless thanks to the lease);
    - `running` runs whose lease expired (their worker died) are enqueued to resume, or failed
      after EXECUTION_MAX_ATTEMPTS;
    - the final event of runs that ended within the last interval is published again, as it
      was stored, its `seq` included (SPEC §17: clients drop the repeat).
    """
    now = timezone.now()
    requeued = _requeue_stale(now)
    resumed, failed = _rescue_expired(now)
    recent = GraphExecution.objects.filter(
        ended_at__gte=now - timedelta(seconds=2 * settings.WATCHDOG_INTERVAL_SECONDS)
    )
    unsent = _final_events_unsent(list(recent.values_list("pk", flat=True)))
    for execution in GraphExecution.objects.filter(pk__in=unsent):
        publish(graph_execution_final_event(execution))
    return {"requeued": requeued, "resumed": resumed, "failed": failed, "republished": len(unsent)}


def _final_events_unsent(ended: list[Any]) -> list[Any]:
    """Of these runs, the ones whose final event may not have left: no worker marked it sent
    (ended by another path, or by a worker that died between its commit and its publication).
    Under load that is a few of thousands; should Redis not answer, all of them."""
    if not ended:
        return []
    try:
        sent = get_redis().mget([final_event_sent_key(pk) for pk in ended])
    except Exception:
        logger.exception("could not read which final events were sent")
        return ended
    return [pk for pk, mark in zip(ended, sent, strict=True) if mark is None]


def _requeue_stale(now: datetime) -> int:
    stale = now - timedelta(seconds=settings.WATCHDOG_QUEUED_SECONDS)
    queued = list(
        GraphExecution.objects.filter(status=ExecutionStatus.QUEUED, parent__isnull=True)
        .filter(Q(enqueued_at__lt=stale) | Q(enqueued_at__isnull=True, created_at__lt=stale))
        .values_list("pk", flat=True)
    )
    for graph_exec_id in queued:
        enqueue_run(graph_exec_id)
    return len(queued)


def execution_rescue() -> dict[str, int]:
    """Beat, every half lease period (SPEC §17): `running` runs whose lease expired are resumed
    at once, through the resume queue, or failed after EXECUTION_MAX_ATTEMPTS. The watchdog
    does the same, less often, as a backstop."""
    resumed, failed = _rescue_expired(timezone.now())
    return {"resumed": resumed, "failed": failed}


def _rescue_expired(now: datetime) -> tuple[int, int]:
    """A run already sent to resume since its lease expired is left to the worker taking it for
    a lease period."""
    recently = now - timedelta(seconds=settings.EXECUTION_LEASE_SECONDS)
    expired = GraphExecution.objects.filter(
        status=ExecutionStatus.RUNNING, lease_expires_at__lt=now
    ).filter(
        Q(enqueued_at__isnull=True)
        | Q(enqueued_at__lt=F("lease_expires_at"))
        | Q(enqueued_at__lt=recently)
    )
    resumed = failed = 0
    for execution in expired:
        if execution.parent_id is not None:
            # Its parent's Agent Executor node runs again on resume and starts a new child.
            give_up(execution, "Its parent run was interrupted; the parent starts it again.")
            failed += 1
        elif execution.attempts >= settings.EXECUTION_MAX_ATTEMPTS:
            give_up(execution, INTERRUPTED)
            failed += 1
        else:
            enqueue_run(execution.pk, queue=RESUME_QUEUE)
            resumed += 1
    return resumed, failed
