"""Human review (SPEC §15): the desk blocks file reviews at, the decision, timeouts, and reads.

A review is filed by the Human Review block through `ReviewDesk` (in its context); the block
then ends without output and the engine parks its execution in `review`. When nothing else of
the run can progress the run ends its task in `review` too, giving its lease back: a waiting
run holds no worker, lease or Celery task, and survives restarts because all of it is rows.

A decision (the API, the run page, or the timeout beat job) moves the node execution
review → queued and the run review → queued under the run's row lock, and enqueues the run
like any other; the block runs again and finds the decision. A decision that arrives while
the run is still running other branches only queues the node execution: the worker's own end
of the run (`worker.session.RunSession.finish`) sees it under the same lock and queues the run
again at once.
"""

import logging
import uuid
from datetime import timedelta
from typing import Any

import jsonschema
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.common.exceptions import Conflict, NotFound, ValidationFailed
from apps.executions import signals
from apps.executions.events import graph_execution_event_record
from apps.executions.lifecycle import enqueue_run, transition
from apps.executions.models import ExecutionStatus, GraphExecution, NodeExecution, Review
from apps.executions.payloads import jsonable
from apps.graphs.runnable import ReviewDecision, compiled_version
from apps.realtime.events import publish
from apps.users.models import User

logger = logging.getLogger(__name__)
UNSET: Any = object()
DECIDED = (Review.Status.APPROVED, Review.Status.REJECTED, Review.Status.TIMED_OUT)


class DatabaseReviewDesk:
    """blocks.context.ReviewDesk for one node execution. `suspended` tells the engine (through
    BlockRun.suspended) that the block ended by asking for a review."""

    def __init__(self, *, execution: GraphExecution, node_id: str, node_exec_id: str) -> None:
        self.execution, self.node_id, self.node_exec_id = execution, node_id, node_exec_id
        self.suspended = False

    def request(
        self,
        *,
        data: Any,
        message: str,
        editable: bool,
        data_schema: Any,
        timeout_seconds: float,
    ) -> ReviewDecision | None:
        review = Review.objects.filter(node_exec_id=self.node_exec_id).first()
        if review is not None and review.status in DECIDED:
            return ReviewDecision(review.status, review.decided_data, review.decision_message)
        if review is None:
            with transaction.atomic():
                review, created = Review.objects.get_or_create(
                    node_exec_id=self.node_exec_id,
                    defaults={
                        "user_id": self.execution.user_id,
                        "graph_execution_id": self.execution.pk,
                        "node_id": self.node_id,
                        "data": jsonable(data),
                        "message": message,
                        "editable": editable,
                        "data_schema": data_schema,
                        "expires_at": timezone.now() + timedelta(seconds=timeout_seconds),
                    },
                )
                if created:
                    transaction.on_commit(lambda: _announce(review, self.execution))
        self.suspended = True
        return None


def _announce(review: Review, execution: GraphExecution) -> None:
    name = compiled_version(execution.graph_id, execution.graph_version).name
    signals.review_requested.send(
        None,
        review_id=review.pk,
        user_id=review.user_id,
        graph_exec_id=execution.pk,
        graph_name=name,
        message=review.message,
    )


# --- reads ----------------------------------------------------------------------------------


def review_list(*, user: User, status: str | None = None) -> QuerySet[Review]:
    reviews = Review.objects.filter(user=user, graph_execution__is_deleted=False)
    return reviews.filter(status=status) if status else reviews


def review_get(*, user: User, review_id: uuid.UUID | str) -> Review:
    """Another user's review is a 404, like an unknown one."""
    try:
        return review_list(user=user).get(pk=uuid.UUID(str(review_id)))
    except (ValueError, Review.DoesNotExist):
        raise NotFound("Review not found.") from None


def review_pending_for_run(*, user: User, graph_exec_id: uuid.UUID) -> list[Review]:
    waiting = review_list(user=user, status=Review.Status.WAITING)
    return list(waiting.filter(graph_execution_id=graph_exec_id))


# --- writes ---------------------------------------------------------------------------------


def _schema_errors(schema: Any, data: Any) -> dict[str, str]:
    try:  # the block checked it; a row written otherwise must not become a 500
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except jsonschema.SchemaError:
        return {"data": "the review's data_schema is not a valid JSON Schema"}
    validator = validator_class(schema)
    errors: dict[str, str] = {}
    # Paths mix indexes and keys: sorted as text, so the order is stable and never a TypeError.
    found = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in found:
        where = ".".join(str(part) for part in error.absolute_path)
        errors.setdefault(f"data.{where}" if where else "data", error.message)
    return errors


def review_decide(
    *,
    user: User,
    review_id: uuid.UUID | str,
    approved: bool,
    data: Any = UNSET,
    message: str = "",
) -> Review:
    """Approve (with the data, edited when given and editable, checked against the node's
    `data_schema`) or reject a waiting review, and resume its run. 404 for another user's, 409
    for one decided already or whose run was stopped, 400 for edited data that fails."""
    review = review_get(user=user, review_id=review_id)
    decided = review.data
    if approved and data is not UNSET:
        if not review.editable:
            raise ValidationFailed(
                "This review's data is not editable.", details={"fields": {"data": "read-only"}}
            )
        if review.data_schema:
            errors = _schema_errors(review.data_schema, data)
            if errors:
                field, problem = next(iter(errors.items()))
                raise ValidationFailed(f"{field}: {problem}", details={"fields": errors})
        decided = data
    outcome = Review.Status.APPROVED if approved else Review.Status.REJECTED
    return _decide(review.pk, outcome, decided, message)


def _decide(review_id: uuid.UUID, outcome: str, data: Any, message: str) -> Review:
    now = timezone.now()
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review_id)
        # The run's row lock orders this against the worker ending the run (RunSession.finish).
        execution = GraphExecution.objects.select_for_update().get(pk=review.graph_execution_id)
        if review.status == Review.Status.CANCELLED or execution.is_terminal:
            raise Conflict("The run was stopped: the review can no longer be decided.")
        if review.status != Review.Status.WAITING:
            raise Conflict(f"The review was already decided ({review.status}).")
        review.status, review.decided_data = outcome, jsonable(data)
        review.decision_message, review.decided_at = message, now
        review.save(update_fields=["status", "decided_data", "decision_message", "decided_at"])
        NodeExecution.objects.filter(pk=review.node_exec_id, status=ExecutionStatus.REVIEW).update(
            status=ExecutionStatus.QUEUED, queued_at=now
        )
        if execution.status == ExecutionStatus.REVIEW:
            run_resume(execution, now=now)
    return review


def run_resume(execution: GraphExecution, *, now: Any) -> None:
    """review → queued for a run whose reviews were decided (inside the caller's transaction,
    with the run's row locked): enqueued after commit. The time spent waiting does not count
    towards the run's time limit (the worker adds it to the deadline)."""
    stats = dict(execution.stats)
    paused = stats.pop("review_paused_at", None)
    if paused is not None:
        stats["review_wait_seconds"] = stats.get("review_wait_seconds", 0) + max(
            0.0, now.timestamp() - paused
        )
    if transition(execution.pk, ExecutionStatus.QUEUED, stats=stats, enqueued_at=now):
        execution.status, execution.stats = ExecutionStatus.QUEUED, stats
        queued = graph_execution_event_record(execution)
        transaction.on_commit(lambda: publish(queued))
        transaction.on_commit(lambda: enqueue_run(execution.pk))


def run_resume_if_decided(execution: GraphExecution, *, now: Any) -> None:
    """The run just went to `review` (inside RunSession.finish's transaction, its row locked):
    reviews decided while it still ran, even before the engine parked their executions, queue
    those executions and the run again."""
    decided = Review.objects.filter(graph_execution_id=execution.pk, status__in=DECIDED)
    NodeExecution.objects.filter(
        graph_execution_id=execution.pk,
        status=ExecutionStatus.REVIEW,
        pk__in=decided.values("node_exec_id"),
    ).update(status=ExecutionStatus.QUEUED, queued_at=now)
    if execution.node_executions.filter(status=ExecutionStatus.QUEUED).exists():
        run_resume(execution, now=now)


def review_timeouts(*, now: Any = None) -> int:
    """Beat job: reviews nobody decided in time end `timed_out` and their runs resume."""
    now = now or timezone.now()
    expired = Review.objects.filter(status=Review.Status.WAITING, expires_at__lt=now)
    count = 0
    for review in expired.only("pk", "data"):
        try:
            _decide(review.pk, Review.Status.TIMED_OUT, review.data, "")
            count += 1
        except Conflict:
            pass  # decided or stopped meanwhile
    return count


def reviews_cancel(*, graph_exec_id: uuid.UUID) -> None:
    """The run was stopped: its waiting reviews can no longer be decided."""
    Review.objects.filter(graph_execution_id=graph_exec_id, status=Review.Status.WAITING).update(
        status=Review.Status.CANCELLED, decided_at=timezone.now()
    )
