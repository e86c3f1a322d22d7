"""The ledger's contract (SPEC §9): one locked write path, idempotent keys, never negative."""

import threading
from datetime import date

import pytest
from django.db import connection
from django.test import TestCase

from apps.common.exceptions import InsufficientCredits
from apps.credits import selectors, services, signals
from apps.credits.models import CreditTransaction, UserBalance
from apps.users.models import User
from tests.factories import UserFactory

SIGNUP = 1000


def _set_balance(user: User, amount: int) -> None:
    current = selectors.credit_balance_get(user_id=user.pk)
    if current != amount:
        services.credit_grant(
            user_id=user.pk, amount=amount - current, reason="test", granted_by="t"
        )


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_charges_never_overdraw() -> None:
    user = UserFactory()
    _set_balance(user, 200)
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def charge(index: int) -> None:
        start.wait()
        try:
            services.credit_apply(
                user_id=user.pk, amount=-10, type="USAGE", transaction_key=f"charge:{index}"
            )
            result = "ok"
        except InsufficientCredits:
            result = "refused"
        finally:
            connection.close()  # each thread had a connection of its own
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=charge, args=(index,)) for index in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == 20
    assert outcomes.count("refused") == 30
    assert selectors.credit_balance_get(user_id=user.pk) == 0
    entries = CreditTransaction.objects.filter(user=user)
    assert sum(entries.values_list("amount", flat=True)) == 0
    assert not entries.filter(running_balance__lt=0).exists()
    usage = entries.filter(type="USAGE").order_by("running_balance")
    assert list(usage.values_list("running_balance", flat=True)) == list(range(0, 200, 10))


@pytest.mark.django_db
def test_a_repeated_key_returns_the_first_entry_and_charges_once(owner: User) -> None:
    first = services.credit_apply(
        user_id=owner.pk, amount=-7, type="USAGE", transaction_key="node:abc"
    )
    again = services.credit_apply(
        user_id=owner.pk, amount=-7, type="USAGE", transaction_key="node:abc"
    )
    assert again.pk == first.pk
    assert CreditTransaction.objects.filter(user=owner, transaction_key="node:abc").count() == 1
    assert selectors.credit_balance_get(user_id=owner.pk) == SIGNUP - 7


@pytest.mark.django_db
def test_usage_beyond_the_balance_is_refused_with_both_amounts(owner: User) -> None:
    _set_balance(owner, 5)
    with pytest.raises(InsufficientCredits) as refused:
        services.credit_apply(user_id=owner.pk, amount=-6, type="USAGE", transaction_key="big")
    assert refused.value.details == {"required_credits": 6, "available_credits": 5}
    assert selectors.credit_balance_get(user_id=owner.pk) == 5
    assert not CreditTransaction.objects.filter(transaction_key="big").exists()


@pytest.mark.django_db
def test_a_pending_top_up_counts_only_once_activated(owner: User) -> None:
    services.credit_apply(
        user_id=owner.pk, amount=500, type="TOP_UP", transaction_key="checkout:1", active=False
    )
    assert selectors.credit_balance_get(user_id=owner.pk) == SIGNUP
    services.credit_activate(user_id=owner.pk, transaction_key="checkout:1")
    services.credit_activate(user_id=owner.pk, transaction_key="checkout:1")
    assert selectors.credit_balance_get(user_id=owner.pk) == SIGNUP + 500
    entry = CreditTransaction.objects.get(transaction_key="checkout:1")
    assert (entry.is_active, entry.running_balance) == (True, SIGNUP + 500)


@pytest.mark.django_db
def test_a_refund_gives_back_once(owner: User, staff: User) -> None:
    usage = services.credit_apply(
        user_id=owner.pk, amount=-40, type="USAGE", transaction_key="node:x"
    )
    services.credit_refund(transaction_id=usage.pk, refunded_by=staff)
    services.credit_refund(transaction_id=usage.pk, refunded_by=staff)
    assert selectors.credit_balance_get(user_id=owner.pk) == SIGNUP
    assert CreditTransaction.objects.filter(type="REFUND").count() == 1


@pytest.mark.django_db
def test_the_monthly_refill_tops_up_once_a_month(owner: User, other_user: User, settings) -> None:
    settings.CREDITS_MONTHLY_REFILL = 1500
    _set_balance(other_user, 2000)
    assert services.credits_monthly_refill(today=date(2026, 11, 3)) == 1
    assert services.credits_monthly_refill(today=date(2026, 11, 28)) == 0
    assert selectors.credit_balance_get(user_id=owner.pk) == 1500
    assert selectors.credit_balance_get(user_id=other_user.pk) == 2000
    services.credit_apply(user_id=owner.pk, amount=-500, type="USAGE", transaction_key="spend")
    assert services.credits_monthly_refill(today=date(2026, 12, 1)) == 1
    assert selectors.credit_balance_get(user_id=owner.pk) == 1500


class SignalTests(TestCase):
    """Low- and zero-balance signals leave after commit, once per crossing."""

    def setUp(self) -> None:
        self.user = UserFactory()
        self.low: list[int] = []
        self.zero: list[str] = []
        signals.balance_low.connect(self._on_low, dispatch_uid="t-low")
        signals.balance_zero.connect(self._on_zero, dispatch_uid="t-zero")

    def tearDown(self) -> None:
        signals.balance_low.disconnect(dispatch_uid="t-low")
        signals.balance_zero.disconnect(dispatch_uid="t-zero")

    def _on_low(
        self, sender: object, user_id: object, balance: int, threshold: int, **kw: object
    ) -> None:
        self.low.append(balance)

    def _on_zero(self, sender: object, user_id: object, **kw: object) -> None:
        self.zero.append(str(user_id))

    def test_it_signals_low_then_zero_once_each(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            services.credit_apply(
                user_id=self.user.pk, amount=-950, type="USAGE", transaction_key="a"
            )
        with self.captureOnCommitCallbacks(execute=True):
            services.credit_apply(
                user_id=self.user.pk, amount=-10, type="USAGE", transaction_key="b"
            )
        with self.captureOnCommitCallbacks(execute=True):
            services.credit_apply(
                user_id=self.user.pk, amount=-40, type="USAGE", transaction_key="c"
            )
        assert self.low == [50]
        assert self.zero == [str(self.user.pk)]


@pytest.mark.django_db(transaction=True)
def test_a_new_account_gets_the_signup_grant(api_client) -> None:
    response = api_client.post(
        "/api/auth/register",
        {"email": "newbie@example.com", "password": "correct-horse-battery-staple"},
        format="json",
    )
    user = User.objects.get(pk=response.json()["user"]["id"])
    assert UserBalance.objects.get(user=user).balance == SIGNUP
    assert CreditTransaction.objects.get(user=user).type == "GRANT"
