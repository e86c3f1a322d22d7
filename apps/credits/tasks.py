from celery import shared_task

from apps.common.logging import user_context
from apps.credits import payments, services


@shared_task(name="credits.monthly_refill", ignore_result=True, time_limit=600)
def monthly_refill() -> int:
    """Top users up to CREDITS_MONTHLY_REFILL; idempotent within a month."""
    return services.credits_monthly_refill()


@shared_task(name="credits.auto_top_up", ignore_result=True, time_limit=120)
def auto_top_up(user_id: str, graph_exec_id: str) -> None:
    """After a paid run: buy the configured credits if the balance fell below the threshold
    (once per run; a declined card is logged, never raised)."""
    with user_context(user_id):
        payments.auto_top_up_maybe(user_id=user_id, graph_exec_id=graph_exec_id)
