"""Reads of the ledger. USAGE entries of one run are shown as one line, with the graph's name."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from django.db import connection
from django.db.models import Case, CharField, Count, Max, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Concat

from apps.credits.models import CreditTransaction, UserBalance

# Plain SQL: read at every run start (building the ORM's query cost more than running it).
_BALANCE = f"SELECT balance FROM {UserBalance._meta.db_table} WHERE user_id = %s"


def credit_balance_get(*, user_id: uuid.UUID | str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_BALANCE, [UserBalance._meta.pk.get_db_prep_value(user_id, connection)])
        row = cursor.fetchone()
    return row[0] if row else 0


def credit_entries(*, user_id: uuid.UUID | str) -> QuerySet[CreditTransaction]:
    """Every entry of a user, pending ones too, newest first (staff views)."""
    return CreditTransaction.objects.filter(user_id=user_id).order_by("-created_at")


def credit_usage_for_run(*, graph_exec_id: uuid.UUID | str) -> int:
    """Credits a run spent (USAGE entries net of their refunds)."""
    total = CreditTransaction.objects.filter(
        graph_exec_id=graph_exec_id, type__in=["USAGE", "REFUND"], is_active=True
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or 0)


def credit_usage_keys_for_run(*, graph_exec_id: uuid.UUID | str) -> list[str]:
    """The keys of a run's active USAGE entries (their charges' idempotency keys)."""
    return list(
        CreditTransaction.objects.filter(
            graph_exec_id=graph_exec_id, type="USAGE", is_active=True
        ).values_list("transaction_key", flat=True)
    )


def credit_usage_for_runs(*, graph_exec_ids: Sequence[uuid.UUID | str]) -> int:
    """Credits some runs spent together (USAGE entries net of their refunds)."""
    total = CreditTransaction.objects.filter(
        graph_exec_id__in=list(graph_exec_ids), type__in=["USAGE", "REFUND"], is_active=True
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or 0)


class CreditHistoryRow(TypedDict):
    group: str
    kind: str
    total: int
    entries: int
    last_at: datetime
    label: str
    run_id: str | None


def credit_transaction_list(
    *,
    user_id: uuid.UUID | str,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[CreditTransaction, CreditHistoryRow]:
    """Active entries newest first, as rows of {group, kind, total, entries, last_at, label,
    run_id}: a run's USAGE entries form one row; every other entry is a row of its own."""
    entries = CreditTransaction.objects.filter(user_id=user_id, is_active=True)
    if type:
        entries = entries.filter(type=type)
    if since:
        entries = entries.filter(created_at__gte=since)
    if until:
        entries = entries.filter(created_at__lt=until)
    run_key = Concat(Value("run:"), Cast("graph_exec_id", CharField()))
    entry_key = Concat(Value("entry:"), Cast("id", CharField()))
    return (
        entries.annotate(
            group=Case(
                When(Q(type="USAGE", graph_exec_id__isnull=False), then=run_key),
                default=entry_key,
                output_field=CharField(),
            )
        )
        .values("group")
        .annotate(
            kind=Max("type"),
            total=Sum("amount"),
            entries=Count("id"),
            last_at=Max("created_at"),
            label=Max("description"),
            run_id=Max(Cast("graph_exec_id", CharField())),
        )
        .order_by("-last_at", "-group")
    )
