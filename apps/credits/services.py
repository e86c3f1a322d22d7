"""Writes to the credit ledger. One function, credit_apply, makes every entry.

Contract: it locks the user's balance row (SELECT … FOR UPDATE; on SQLite the immediate
transaction serialises writers), returns the existing entry when the key was used before (so a
retried charge or a redelivered task never writes twice), refuses to take the balance below zero
for USAGE, inserts the entry with its running balance and updates the balance row, all in one
transaction. Signals about low and zero balances leave after commit.
"""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.common.exceptions import (
    BudgetExceeded,
    InsufficientCredits,
    NotFound,
    ValidationFailed,
)
from apps.credits import signals
from apps.credits.models import CreditTransaction, UserBalance
from apps.credits.selectors import credit_usage_for_runs
from apps.users.models import User

Type = CreditTransaction.Type


@dataclass(frozen=True)
class Budget:
    """A cap on what some runs may spend together (a run's `max_credits`, SPEC §17): their USAGE
    net of REFUNDs never passes `max_credits`. `runs`: the capped run and its sub-agent runs."""

    max_credits: int
    runs: Sequence[uuid.UUID | str]

    def check(self, amount: int) -> None:
        """Raise BudgetExceeded when `amount` more would pass the cap (under the balance lock:
        every charge of the user waits for it, so two charges cannot both fit the last room)."""
        spent = credit_usage_for_runs(graph_exec_ids=self.runs)
        if spent + amount > self.max_credits:
            raise BudgetExceeded(
                max_credits=self.max_credits, spent_credits=spent, required_credits=amount
            )


def _locked_balance(user_id: uuid.UUID | str) -> UserBalance:
    UserBalance.objects.get_or_create(user_id=user_id)
    return UserBalance.objects.select_for_update().get(user_id=user_id)


def credit_balances_lock(*, user_ids: list[Any]) -> None:
    """Lock the users' balances (as every ledger write does first), in one order."""
    list(
        UserBalance.objects.select_for_update()
        .filter(user_id__in=user_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _announce(user_id: uuid.UUID | str, before: int, after: int) -> None:
    threshold = settings.CREDITS_LOW_BALANCE_THRESHOLD
    if after <= 0 < before:
        transaction.on_commit(lambda: signals.balance_zero.send(None, user_id=user_id))
    elif after < threshold <= before:
        transaction.on_commit(
            lambda: signals.balance_low.send(
                None, user_id=user_id, balance=after, threshold=threshold
            )
        )


@transaction.atomic
def credit_apply(
    *,
    user_id: uuid.UUID | str,
    amount: int,
    type: str,
    transaction_key: str,
    description: str = "",
    graph_exec_id: uuid.UUID | str | None = None,
    metadata: dict[str, Any] | None = None,
    active: bool = True,
    budgets: Sequence[Budget] = (),
) -> CreditTransaction:
    """Add one entry to the ledger (see the module docstring for the contract); a USAGE entry
    that would pass one of `budgets` is refused with BudgetExceeded."""
    balance = _locked_balance(user_id)
    existing = CreditTransaction.objects.filter(
        user_id=user_id, transaction_key=transaction_key
    ).first()
    if existing is not None:
        return existing
    for budget in budgets if type == Type.USAGE else ():
        budget.check(-amount)
    after = balance.balance + amount if active else balance.balance
    if type == Type.USAGE and amount < 0 and after < 0:
        raise InsufficientCredits(required_credits=-amount, available_credits=balance.balance)
    entry = CreditTransaction.objects.create(
        user_id=user_id,
        transaction_key=transaction_key,
        type=type,
        amount=amount,
        running_balance=after if active else None,
        is_active=active,
        graph_exec_id=graph_exec_id,
        description=description[:200],
        metadata=metadata or {},
    )
    if active and after != balance.balance:
        _announce(user_id, balance.balance, after)
        balance.balance = after
        balance.save(update_fields=["balance", "updated_at"])
    return entry


@transaction.atomic
def credit_activate(*, user_id: uuid.UUID | str, transaction_key: str) -> CreditTransaction:
    """Make an inactive entry (a pending top-up) count; activating twice changes nothing."""
    balance = _locked_balance(user_id)
    entry = (
        CreditTransaction.objects.select_for_update()
        .filter(user_id=user_id, transaction_key=transaction_key)
        .first()
    )
    if entry is None:
        raise NotFound("Credit transaction not found.")
    if entry.is_active:
        return entry
    after = balance.balance + entry.amount
    entry.is_active, entry.running_balance = True, after
    entry.save(update_fields=["is_active", "running_balance"])
    _announce(user_id, balance.balance, after)
    balance.balance = after
    balance.save(update_fields=["balance", "updated_at"])
    return entry


def credit_grant(
    *,
    user_id: uuid.UUID | str,
    amount: int,
    reason: str,
    granted_by: User | str | None,
    key: str | None = None,
) -> CreditTransaction:
    """Staff: a GRANT (amount > 0) or an ADJUSTMENT (any sign, e.g. a correction)."""
    if amount == 0:
        raise ValidationFailed("The amount must not be zero.")
    kind = Type.GRANT if amount > 0 else Type.ADJUSTMENT
    return credit_apply(
        user_id=user_id,
        amount=amount,
        type=kind,
        transaction_key=key or f"grant:{uuid.uuid4()}",
        description=reason,
        metadata={"granted_by": str(getattr(granted_by, "pk", granted_by))},
    )


def credit_refund(
    *, transaction_id: uuid.UUID | str, refunded_by: User | str | None
) -> CreditTransaction:
    """Staff: give back what one USAGE or TOP_UP entry took or paid; once per entry."""
    original = CreditTransaction.objects.filter(pk=transaction_id).first()
    if original is None:
        raise NotFound("Credit transaction not found.")
    if original.type not in (Type.USAGE, Type.TOP_UP) or not original.is_active:
        raise ValidationFailed("Only active usage and top-up entries can be refunded.")
    return credit_apply(
        user_id=original.user_id,
        amount=-original.amount,
        type=Type.REFUND,
        transaction_key=f"refund:{original.pk}",
        description=f"Refund of {original.type.lower()} {original.description}".strip(),
        graph_exec_id=original.graph_exec_id,
        metadata={
            "refunded_by": str(getattr(refunded_by, "pk", refunded_by)),
            "refund_of": str(original.pk),
        },
    )


def credit_refund_charges(*, user_id: uuid.UUID | str, key: str) -> list[CreditTransaction]:
    """Give back what one charge took: every active USAGE entry keyed `key` or `key:…` (a node
    execution's charges), each once: the REFUND's key is credit_refund's (`refund:<entry id>`),
    so neither a retried refund nor a staff refund of the same entry pays it back twice."""
    charges = CreditTransaction.objects.filter(
        user_id=user_id, type=Type.USAGE, is_active=True
    ).filter(Q(transaction_key=key) | Q(transaction_key__startswith=f"{key}:"))
    return [
        credit_refund(transaction_id=entry.pk, refunded_by="platform")
        for entry in charges.order_by("created_at")
    ]


def credit_signup_grant(*, user_id: uuid.UUID | str) -> CreditTransaction | None:
    if settings.CREDITS_SIGNUP_GRANT <= 0:
        return None
    return credit_apply(
        user_id=user_id,
        amount=settings.CREDITS_SIGNUP_GRANT,
        type=Type.GRANT,
        transaction_key="signup",
        description="Welcome credits",
    )


def credits_monthly_refill(*, today: datetime.date | None = None) -> int:
    """Top every user up to CREDITS_MONTHLY_REFILL once a month (key `refill:YYYY-MM`)."""
    target = settings.CREDITS_MONTHLY_REFILL
    if target <= 0:
        return 0
    month = (today or timezone.now().date()).strftime("%Y-%m")
    key = f"refill:{month}"
    refilled = 0
    for user_id in UserBalance.objects.filter(balance__lt=target).values_list("user_id", flat=True):
        with transaction.atomic():
            # Decide under the lock: the balance may have moved since the list was read.
            balance = _locked_balance(user_id)
            used = CreditTransaction.objects.filter(user_id=user_id, transaction_key=key).exists()
            if used or balance.balance >= target:
                continue
            credit_apply(
                user_id=user_id,
                amount=target - balance.balance,
                type=Type.GRANT,
                transaction_key=key,
                description=f"Monthly refill {month}",
            )
            refilled += 1
    return refilled
