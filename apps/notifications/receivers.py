"""Signals from the layers below become notifications. Receivers run on the producers' paths (a
ledger write in a web request, say), so most only enqueue a task on the notifications queue; a
run's end, which comes from a worker, is written at once (a task per run would cost more than
the notification)."""

import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.credits.models import CreditTransaction
from apps.notifications import services, tasks
from apps.notifications.models import NotificationType as T

logger = logging.getLogger(__name__)


def _notify(user_id: Any, type: str, data: dict[str, Any], dedupe_key: str = "") -> None:
    tasks.notify.apply_async(args=(str(user_id), type, data, dedupe_key), queue=tasks.QUEUE)


def on_graph_execution_finished(sender: Any, **run: Any) -> None:
    """Sent in the transaction that ends a run, by the worker that ran it (or the request that
    stopped it): the notification is written right there, which costs a fraction of a task per
    run, and commits with the run's end. A failure is logged and rolled back to a savepoint; it
    never fails the run's end."""
    if run.get("parent_id") is not None:
        return  # a sub-agent's run is part of its parent's
    try:
        with transaction.atomic():
            _run_finished(run)
    except Exception:
        logger.exception("could not notify the end of run %s", run["execution_id"])


def _run_finished(run: dict[str, Any]) -> None:
    services.run_finished_notify(
        execution_id=str(run["execution_id"]),
        user_id=str(run["user_id"]),
        graph_id=str(run["graph_id"]),
        graph_version=run["graph_version"],
        graph_name=run["graph_name"],
        status=str(run["status"]),
        node_error_count=run["node_error_count"],
        cost=run["cost"],
        duration_seconds=run["duration_seconds"],
        error_message=run.get("error_message") or "",
    )


def on_balance_low(sender: Any, *, user_id: Any, balance: int, threshold: int, **kw: Any) -> None:
    _notify(user_id, T.LOW_BALANCE, {"balance": balance, "threshold": threshold})


def on_balance_zero(sender: Any, *, user_id: Any, **kwargs: Any) -> None:
    _notify(user_id, T.ZERO_BALANCE, {})


def on_submission_reviewed(sender: Any, **review: Any) -> None:
    approved = review["status"] == "APPROVED"
    data = {
        "listing_version_id": str(review["listing_version_id"]),
        "agent_name": review["agent_name"],
        "reviewer_comments": review.get("reviewer_comments") or "",
    }
    key = f"review:{review['listing_version_id']}:{review['status']}"
    _notify(review["user_id"], T.AGENT_APPROVED if approved else T.AGENT_REJECTED, data, key)


def on_schedule_attempt_failed(sender: Any, **attempt: Any) -> None:
    data = {
        "schedule_id": str(attempt["schedule_id"]),
        "schedule_name": attempt["schedule_name"],
        "graph_id": str(attempt["graph_id"]),
        "error_code": attempt["error_code"],
        "message": attempt["message"],
    }
    key = f"schedule-attempt:{attempt['attempt_id']}"
    _notify(attempt["user_id"], T.CONTINUOUS_AGENT_ERROR, data, key)


def on_review_requested(sender: Any, **review: Any) -> None:
    """A human review waits (SPEC §15): the owner gets a link to the run's page."""
    path = reverse("dashboard:run", args=[review["graph_exec_id"]])
    data = {
        "review_id": str(review["review_id"]),
        "graph_exec_id": str(review["graph_exec_id"]),
        "graph_name": review["graph_name"],
        "message": review["message"],
        "url": f"{settings.SITE_URL.rstrip('/')}{path}",
    }
    _notify(review["user_id"], T.REVIEW_REQUESTED, data, f"review:{review['review_id']}")


def on_credit_entry(sender: Any, instance: CreditTransaction, created: bool, **kw: Any) -> None:
    if not created or instance.type != CreditTransaction.Type.REFUND:
        return
    data = {"amount": instance.amount, "transaction_id": str(instance.pk)}
    key = f"refund:{instance.pk}"
    transaction.on_commit(lambda: _notify(instance.user_id, T.REFUND_PROCESSED, data, key))


def on_credential_needs_reauth(sender: Any, **credential: Any) -> None:
    """Sent after commit by the refresh that failed: once per credential and status change."""
    data = {
        key: str(credential.get(key, ""))
        for key in ("credential_id", "provider", "title", "reason")
    }
    # Written at once (rare, and the owner must hear of it even with no worker running).
    try:
        services.notification_send(
            user_id=credential["user_id"],
            type=T.CREDENTIAL_NEEDS_REAUTH,
            data=data,
            dedupe_key=f"reauth:{data['credential_id']}:{timezone.now():%Y%m%d%H%M%S%f}",
        )
    except Exception:
        logger.exception("could not notify that credential %s needs re-auth", data["credential_id"])


def on_owner_notification_requested(sender: Any, **request: Any) -> str | None:
    """A Notify Owner block: written at once (the block outputs the notification's id)."""
    notification = services.notification_send(
        user_id=request["user_id"],
        type=T.AGENT_MESSAGE,
        data={
            "title": str(request.get("title") or "")[:200],
            "message": str(request.get("message") or ""),
            "level": str(request.get("level") or "info"),
            "graph_id": request.get("graph_id"),
            "graph_exec_id": request.get("graph_exec_id"),
        },
        dedupe_key=f"agent:{uuid.uuid4()}",
    )
    return str(notification.pk) if notification is not None else None
