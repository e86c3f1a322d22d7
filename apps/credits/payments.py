"""Buying credits through Stripe (SPEC §9): Checkout top-ups, the webhook that confirms them, and
auto top-up charged off-session with the card saved by an earlier top-up.

1 credit = US$0.01, so a top-up of N credits is a payment of N cents. A Checkout top-up is
recorded as an inactive TOP_UP (`checkout:<session id>`) when the session is created and made to
count by the signed `checkout.session.completed` webhook; nothing else activates it. Stripe is
reached through its official library at settings.STRIPE_API_BASE (tests point it at a local
server that speaks the same API).
"""

import contextlib
import functools
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from redis.exceptions import LockError
from stripe.params.checkout import SessionCreateParams

from apps.common.exceptions import NotConfigured, ServiceUnavailable, ValidationFailed
from apps.common.redis import get_redis
from apps.credits.models import AutoTopUpConfig, CreditTransaction
from apps.credits.selectors import credit_balance_get
from apps.credits.services import credit_activate, credit_apply
from apps.users.models import User

logger = logging.getLogger(__name__)

MINIMUM_AMOUNT = 500  # credits (US$5): below this, card fees eat the payment
AMOUNT_STEP = 100  # whole dollars only
_PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}


@dataclass(frozen=True)
class AutoTopUpSettings:
    enabled: bool
    threshold: int
    amount: int
    has_payment_method: bool


def payments_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _require_configured() -> None:
    if not payments_configured():
        raise NotConfigured("Payments are not configured on this installation.")


@functools.lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str) -> stripe.StripeClient:
    # One client per key and base keeps its HTTP connections alive between calls.
    return stripe.StripeClient(api_key, base_addresses={"api": api_base}, max_network_retries=2)


def _client() -> stripe.StripeClient:
    _require_configured()
    return _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def _check_amount(amount: int) -> None:
    if amount < MINIMUM_AMOUNT or amount % AMOUNT_STEP:
        raise ValidationFailed(
            f"The amount must be at least {MINIMUM_AMOUNT} credits and a multiple of "
            f"{AMOUNT_STEP}.",
            details={"amount": amount},
        )


def top_up_start(*, user: User, amount: int) -> str:
    """Open a Stripe Checkout session for `amount` credits and return its URL.

    Records an inactive TOP_UP keyed by the session, which the webhook activates once paid; the
    card is saved (`setup_future_usage=off_session`) so auto top-up can charge it later."""
    client = _client()
    _check_amount(amount)
    saved = AutoTopUpConfig.objects.filter(user=user).first()
    metadata = {"user_id": str(user.pk), "credits": str(amount)}
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": amount,
                    "product_data": {"name": "AutoGPT credits"},
                },
            }
        ],
        "success_url": f"{settings.SITE_URL}/?top_up=success&session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{settings.SITE_URL}/?top_up=cancelled",
        "client_reference_id": str(user.pk),
        "metadata": metadata,
        "payment_intent_data": {"setup_future_usage": "off_session", "metadata": metadata},
    }
    # Stripe refuses customer_creation together with customer: reuse the customer we know.
    if saved and saved.stripe_customer_id:
        params["customer"] = saved.stripe_customer_id
    else:
        params["customer_creation"], params["customer_email"] = "always", user.email
    try:
        session = client.v1.checkout.sessions.create(params=params)
    except stripe.StripeError as exc:
        logger.exception("Stripe refused a checkout session for user %s", user.pk)
        raise ServiceUnavailable("The payment provider is unavailable; try again later.") from exc
    if session.url is None:  # only sessions of ui_mode "embedded" come without one
        raise ServiceUnavailable("The payment provider gave no checkout page; try again later.")
    credit_apply(
        user_id=user.pk,
        amount=amount,
        type=CreditTransaction.Type.TOP_UP,
        transaction_key=f"checkout:{session.id}",
        active=False,
        description="Top-up",
        metadata={"checkout_session": session.id},
    )
    return session.url


def webhook_handle(*, payload: bytes, signature: str) -> None:
    """Verify a Stripe webhook and apply it. A paid checkout session activates its top-up (once,
    however often Stripe delivers the event) and saves the customer and card for auto top-up;
    other events are ignored. A bad signature raises ValidationFailed and changes nothing; a
    failure to reach Stripe raises ServiceUnavailable so that Stripe delivers the event again."""
    client = _client()
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise NotConfigured("Payments are not configured on this installation.")
    try:
        event = client.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except stripe.SignatureVerificationError as exc:
        raise ValidationFailed("The webhook signature is not valid.") from exc
    except ValueError as exc:  # signed, but not a Stripe event
        raise ValidationFailed("The webhook payload is not a Stripe event.") from exc
    if event.type not in _PAID_EVENTS:
        return
    session = event.data.object.to_dict()
    if session.get("payment_status") != "paid":
        return  # an async payment still pending: its own event follows
    user_id = (session.get("metadata") or {}).get("user_id")
    if not user_id or not _is_user(user_id):
        logger.warning("Checkout session %s names no user of this platform", session.get("id"))
        return
    _top_up_confirm(user_id=user_id, session=session)
    _payment_method_save(client=client, user_id=user_id, session=session)


def _is_user(user_id: str) -> bool:
    try:
        return get_user_model().objects.filter(pk=uuid.UUID(str(user_id))).exists()
    except ValueError:
        return False


@transaction.atomic
def _top_up_confirm(*, user_id: str, session: dict[str, Any]) -> None:
    key = f"checkout:{session['id']}"
    # The pending entry is written after Stripe answers top_up_start; if that write was lost the
    # customer has still paid, so it is recreated from the session (a no-op when it exists).
    credit_apply(
        user_id=user_id,
        amount=int(session["metadata"].get("credits") or session["amount_total"]),
        type=CreditTransaction.Type.TOP_UP,
        transaction_key=key,
        active=False,
        description="Top-up",
        metadata={"checkout_session": session["id"]},
    )
    credit_activate(user_id=user_id, transaction_key=key)


def _payment_method_save(
    *, client: stripe.StripeClient, user_id: str, session: dict[str, Any]
) -> None:
    customer, intent_id = session.get("customer"), session.get("payment_intent")
    if not customer or not intent_id:
        return
    try:
        intent = client.v1.payment_intents.retrieve(intent_id)
    except stripe.StripeError as exc:
        logger.exception("Could not read PaymentIntent %s", intent_id)
        raise ServiceUnavailable("The payment provider is unavailable; try again later.") from exc
    method = intent.payment_method  # an id unless the call asked to expand it
    if not method:
        return
    method_id = method if isinstance(method, str) else method.id
    with transaction.atomic():
        config, _ = AutoTopUpConfig.objects.select_for_update().get_or_create(user_id=user_id)
        config.stripe_customer_id, config.payment_method_id = customer, method_id
        config.save(update_fields=["stripe_customer_id", "payment_method_id", "updated_at"])


def _settings_of(config: AutoTopUpConfig) -> AutoTopUpSettings:
    return AutoTopUpSettings(
        enabled=config.enabled,
        threshold=config.threshold,
        amount=config.amount,
        has_payment_method=bool(config.payment_method_id),
    )


def auto_top_up_config_get(*, user: User) -> AutoTopUpSettings:
    """The user's auto top-up settings; the defaults (disabled) when never set."""
    config = AutoTopUpConfig.objects.filter(user=user).first() or AutoTopUpConfig(user=user)
    return _settings_of(config)


@transaction.atomic
def auto_top_up_config_set(
    *, user: User, enabled: bool, threshold: int, amount: int
) -> AutoTopUpSettings:
    """Set auto top-up. Enabling needs payments configured (NotConfigured) and a card saved
    by an earlier top-up (ValidationFailed); disabling is always allowed."""
    _check_amount(amount)
    if threshold < 0 or threshold >= amount:
        raise ValidationFailed(
            "The threshold must be at least 0 and below the top-up amount.",
            details={"threshold": threshold, "amount": amount},
        )
    config, _ = AutoTopUpConfig.objects.select_for_update().get_or_create(user=user)
    if enabled:
        _require_configured()
        if not config.payment_method_id:
            raise ValidationFailed(
                "Auto top-up needs a saved card: top up once by card first.",
                details={"has_payment_method": False},
            )
    config.enabled, config.threshold, config.amount = enabled, threshold, amount
    config.save(update_fields=["enabled", "threshold", "amount", "updated_at"])
    return _settings_of(config)


def auto_top_up_maybe(*, user_id: uuid.UUID | str, graph_exec_id: uuid.UUID | str) -> None:
    """Charge the saved card for the configured amount when the balance is below the threshold,
    at most once per execution (`auto-top-up:<graph_exec_id>`). Never raises for a payment
    problem: a declined card or an unreachable Stripe is logged and the run goes on."""
    if not payments_configured():
        return
    config = AutoTopUpConfig.objects.filter(user_id=user_id, enabled=True).first()
    if config is None or not config.payment_method_id:
        return
    key = f"auto-top-up:{graph_exec_id}"
    # Runs of one user finishing together would each see the low balance and each charge the
    # card; the lock makes the second one wait and then see the topped-up balance. Holding a
    # database lock across the Stripe call instead would block every writer on SQLite.
    lock = get_redis().lock(f"autogpt:auto-top-up:{user_id}", timeout=120, blocking_timeout=30)
    if not lock.acquire():
        return  # another run holds it and is topping up right now
    try:
        if CreditTransaction.objects.filter(user_id=user_id, transaction_key=key).exists():
            return
        if credit_balance_get(user_id=user_id) >= config.threshold:
            return
        _auto_top_up_charge(config=config, transaction_key=key, graph_exec_id=graph_exec_id)
    finally:
        # A charge slower than the lock's timeout finds it expired (and maybe taken): not ours.
        with contextlib.suppress(LockError):
            lock.release()


def _auto_top_up_charge(
    *, config: AutoTopUpConfig, transaction_key: str, graph_exec_id: uuid.UUID | str
) -> None:
    metadata = {
        "user_id": str(config.user_id),
        "credits": str(config.amount),
        "graph_exec_id": str(graph_exec_id),
    }
    try:
        intent = _client().v1.payment_intents.create(
            params={
                "amount": config.amount,
                "currency": "usd",
                "customer": config.stripe_customer_id,
                "payment_method": config.payment_method_id,
                "off_session": True,
                "confirm": True,
                # Off-session there is nobody to follow a redirect.
                "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                "metadata": metadata,
            },
            # Stripe replays the first answer for a repeated key: a retried or concurrent call
            # for the same execution never charges twice, even before the ledger shows it.
            options={"idempotency_key": f"{config.user_id}:{transaction_key}"},
        )
    except stripe.CardError as exc:
        logger.warning("Auto top-up for user %s declined: %s", config.user_id, exc.user_message)
        return
    except stripe.StripeError:
        logger.exception("Auto top-up for user %s failed", config.user_id)
        return
    if intent.status != "succeeded":
        logger.warning("Auto top-up for user %s is %s", config.user_id, intent.status)
        return
    credit_apply(
        user_id=config.user_id,
        amount=config.amount,
        type=CreditTransaction.Type.TOP_UP,
        transaction_key=transaction_key,
        active=True,
        description="Auto top-up",
        # The run goes in metadata, not graph_exec_id: a refund copies that column, and
        # credit_usage_for_run would then count the refunded top-up as the run's usage.
        metadata={"payment_intent": intent.id, "graph_exec_id": str(graph_exec_id)},
    )
