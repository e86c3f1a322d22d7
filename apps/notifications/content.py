"""Title and message of each notification type, from the data its producer gave."""

from collections.abc import Callable
from typing import Any

from apps.notifications.models import NotificationType as T

# The user preference that governs emails of a type; types without one (a store review's
# outcome, a refund) are always emailed, within the daily cap.
PREFERENCE: dict[str, str] = {
    T.AGENT_RUN: "notify_on_agent_run",
    T.ZERO_BALANCE: "notify_on_zero_balance",
    T.LOW_BALANCE: "notify_on_low_balance",
    T.BLOCK_EXECUTION_FAILED: "notify_on_block_execution_failed",
    T.CONTINUOUS_AGENT_ERROR: "notify_on_continuous_agent_error",
    T.DAILY_SUMMARY: "notify_on_daily_summary",
    T.WEEKLY_SUMMARY: "notify_on_weekly_summary",
    T.MONTHLY_SUMMARY: "notify_on_monthly_summary",
    T.REVIEW_REQUESTED: "notify_on_review_requested",
}


def credits_phrase(amount: object) -> str:
    return f"{amount} credit" if str(amount) in ("1", "-1") else f"{amount} credits"


def run_outcome(status: object, node_error_count: object) -> str:
    """A run's outcome in words (SPEC §17): "completed with errors" when nodes failed."""
    failed = int(str(node_error_count or 0))
    return "completed with errors" if status == "completed" and failed > 0 else str(status)


def _run(data: dict[str, Any]) -> tuple[str, str]:
    name = data.get("graph_name") or "Your agent"
    seconds = float(data.get("duration_seconds") or 0)
    failed = int(data.get("node_error_count") or 0)
    message = f"The run took {seconds:.1f} s and used {credits_phrase(data.get('cost', 0))}."
    if failed:
        nodes = "1 node" if failed == 1 else f"{failed} nodes"
        first = str(data.get("error_message") or "").strip()
        message += f" {nodes} failed" + (f"; the first error: {first[:300]}" if first else ".")
    return (f"{name} finished: {run_outcome(data.get('status'), failed)}", message)


def _block_failed(data: dict[str, Any]) -> tuple[str, str]:
    name = data.get("graph_name") or "Your agent"
    held = data.get("suppressed", 0)
    more = f" {held} more failing runs since the last notice." if held else ""
    first = str(data.get("error_message") or "")[:300]
    return (
        f"Blocks failed in {name}",
        f"{data.get('node_error_count', 0)} node(s) failed in the latest run.{more}"
        + (f" The first error: {first}" if first else ""),
    )


def _schedule_failed(data: dict[str, Any]) -> tuple[str, str]:
    return (
        f"Schedule {data.get('schedule_name')!r} could not start its run",
        f"{data.get('message', '')} ({data.get('error_code', 'ERROR')})",
    )


def _summary(period: str) -> Any:
    def render(data: dict[str, Any]) -> tuple[str, str]:
        rate = round(100 * float(data.get("success_rate", 0)))
        with_errors = int(data.get("completed_with_errors") or 0)
        errors = f" ({with_errors} completed with errors)" if with_errors else ""
        return (
            f"Your {period} summary: {data.get('runs', 0)} runs",
            f"{rate}% succeeded{errors}, {credits_phrase(data.get('credits_used', 0))} used, "
            f"top agent: {data.get('top_agent') or '-'}.",
        )

    return render


RENDERERS: dict[str, Callable[[dict[str, Any]], tuple[str, str]]] = {
    T.AGENT_RUN: _run,
    T.ZERO_BALANCE: lambda d: (
        "Your credit balance is zero",
        "Runs stop until you top up your credits.",
    ),
    T.LOW_BALANCE: lambda d: (
        "Your credit balance is low",
        f"{credits_phrase(d.get('balance'))} left (below {d.get('threshold')}).",
    ),
    T.BLOCK_EXECUTION_FAILED: _block_failed,
    T.CONTINUOUS_AGENT_ERROR: _schedule_failed,
    T.DAILY_SUMMARY: _summary("daily"),
    T.WEEKLY_SUMMARY: _summary("weekly"),
    T.MONTHLY_SUMMARY: _summary("monthly"),
    T.AGENT_APPROVED: lambda d: (
        f"{d.get('agent_name')} was approved for the store",
        d.get("reviewer_comments") or "It is now listed in the store.",
    ),
    T.AGENT_REJECTED: lambda d: (
        f"{d.get('agent_name')} was not approved for the store",
        d.get("reviewer_comments") or "See the review comments in your submissions.",
    ),
    T.REVIEW_REQUESTED: lambda d: (
        f"{d.get('graph_name') or 'Your agent'} waits for your review",
        f"{d.get('message') or 'A run needs your decision.'} Review it: {d.get('url')}",
    ),
    T.CREDENTIAL_NEEDS_REAUTH: lambda d: (
        f"Reconnect “{d.get('title')}” ({d.get('provider')})",
        "Its access could not be renewed, so blocks using it fail until you connect it again "
        f"on the Credentials page. The provider said: {d.get('reason') or 'nothing'}.",
    ),
    T.AGENT_MESSAGE: lambda d: (
        str(d.get("title") or "A message from your agent"),
        str(d.get("message") or ""),
    ),
    T.REFUND_PROCESSED: lambda d: (
        "Your refund was processed",
        f"{d.get('amount')} credits were returned to your balance.",
    ),
}


def render(type: str, data: dict[str, Any]) -> tuple[str, str]:
    title, message = RENDERERS[type](data)
    return title[:200], message
