"""Celery entry points of common: thin, named explicitly."""

from celery import shared_task

from apps.common import upkeep


@shared_task(name="common.table_upkeep", ignore_result=True, time_limit=600)
def table_upkeep() -> dict[str, str]:
    """ANALYZE and VACUUM where autovacuum does not run (apps.common.upkeep)."""
    return upkeep.table_upkeep()
