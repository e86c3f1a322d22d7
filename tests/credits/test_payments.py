"""Buying credits through Stripe, against a local server that speaks Stripe's API
(tests/stripe_server.py) and webhooks signed the way Stripe signs them."""

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.credits.models import AutoTopUpConfig, CreditTransaction
from apps.credits.payments import auto_top_up_config_set, auto_top_up_maybe
from apps.credits.selectors import credit_balance_get
from apps.credits.services import credit_apply
from apps.users.models import User
from apps.users.services import api_key_create
from tests.stripe_server import DECLINED_PAYMENT_METHOD, StripeServer, event, sign_webhook

WEBHOOK_SECRET = "whsec_test"
WEBHOOK_URL = "/api/credits/stripe/webhook"


@pytest.fixture
def stripe_server() -> Iterator[StripeServer]:
    server = StripeServer().start()
    yield server
    server.stop()


@pytest.fixture
def payments_on(settings, stripe_server: StripeServer) -> StripeServer:
    settings.STRIPE_SECRET_KEY = "sk_test_local"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = stripe_server.url
    return stripe_server


def _deliver(client: APIClient, body: dict[str, Any], *, secret: str = WEBHOOK_SECRET) -> Any:
    payload = json.dumps(body).encode()
    return client.post(
        WEBHOOK_URL,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_webhook(payload, secret),
    )


def _top_up(client: APIClient, amount: int) -> Any:
    return client.post("/api/credits/top-up", {"amount": amount}, format="json")


def _paid_top_up(client: APIClient, api_client: APIClient, server: StripeServer, **kw: Any) -> str:
    """A top-up the customer paid for and whose webhook arrived; returns the session id."""
    assert _top_up(client, 1000).status_code == 200
    session_id = next(iter(server.sessions))
    assert (
        _deliver(api_client, server.checkout_completed_event(session_id, **kw)).status_code == 200
    )
    return session_id


def _saved_card(user: User, payment_method: str = "pm_card_visa") -> AutoTopUpConfig:
    return AutoTopUpConfig.objects.create(
        user=user, stripe_customer_id="cus_alice", payment_method_id=payment_method
    )


def _lower_balance_to(user: User, target: int) -> None:
    credit_apply(
        user_id=user.pk,
        amount=target - credit_balance_get(user_id=user.pk),
        type="ADJUSTMENT",
        transaction_key=f"test:{uuid.uuid4()}",
    )


# --- not configured ---------------------------------------------------------------------------


def test_it_answers_404_when_payments_are_not_configured(settings, owner_client: APIClient) -> None:
    settings.STRIPE_SECRET_KEY = ""
    top_up = _top_up(owner_client, 1000)
    auto = owner_client.post(
        "/api/credits/auto-top-up",
        {"enabled": True, "threshold": 100, "amount": 1000},
        format="json",
    )
    settings.STRIPE_WEBHOOK_SECRET = ""
    webhook = APIClient().post(WEBHOOK_URL, b"{}", content_type="application/json")
    for response in (top_up, auto, webhook):
        # A lasting state of the installation, not an outage (schemathesis: no 5xx).
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["error_code"] == "NOT_CONFIGURED"
        assert error["message"] == "Payments are not configured on this installation."
    assert not CreditTransaction.objects.filter(type="TOP_UP").exists()


# --- Checkout top-up --------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, 499, 550, 1001, -1000])
def test_it_refuses_amounts_below_500_or_not_whole_dollars(
    payments_on: StripeServer, owner_client: APIClient, amount: int
) -> None:
    response = _top_up(owner_client, amount)
    assert response.status_code == 400
    assert response.json()["error"]["error_code"] == "VALIDATION_ERROR"
    assert payments_on.requests == []


def test_it_opens_a_checkout_session_and_records_a_pending_top_up(
    payments_on: StripeServer, owner: User, owner_client: APIClient
) -> None:
    before = credit_balance_get(user_id=owner.pk)
    response = _top_up(owner_client, 1500)
    assert response.status_code == 200
    (request,) = payments_on.requests_to("POST", "/v1/checkout/sessions")
    assert request.headers["Authorization"] == "Bearer sk_test_local"
    params = request.params
    assert params["mode"] == "payment"
    (item,) = params["line_items"]
    assert item["quantity"] == "1"
    assert item["price_data"]["unit_amount"] == "1500"
    assert item["price_data"]["currency"] == "usd"
    assert item["price_data"]["product_data"]["name"] == "AutoGPT credits"
    assert params["metadata"] == {"user_id": str(owner.pk), "credits": "1500"}
    assert params["client_reference_id"] == str(owner.pk)
    assert params["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert params["customer_creation"] == "always"
    assert params["success_url"].startswith("http")
    session_id = next(iter(payments_on.sessions))
    assert session_id.startswith("cs_test_")
    assert response.json() == {"checkout_url": payments_on.sessions[session_id]["url"]}
    entry = CreditTransaction.objects.get(user=owner, transaction_key=f"checkout:{session_id}")
    assert (entry.type, entry.amount, entry.is_active) == ("TOP_UP", 1500, False)
    assert entry.metadata == {"checkout_session": session_id}
    assert credit_balance_get(user_id=owner.pk) == before


def test_it_reuses_the_saved_stripe_customer(
    payments_on: StripeServer, owner: User, owner_client: APIClient
) -> None:
    _saved_card(owner)
    assert _top_up(owner_client, 500).status_code == 200
    (request,) = payments_on.requests_to("POST", "/v1/checkout/sessions")
    assert request.params["customer"] == "cus_alice"
    assert "customer_creation" not in request.params


def test_it_keeps_top_ups_closed_to_api_keys(payments_on: StripeServer, owner: User) -> None:
    _, plain = api_key_create(user=owner, name="k", permissions=["READ_CREDITS"])
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert _top_up(client, 1000).status_code == 403
    assert client.get("/api/credits/auto-top-up").status_code == 200
    auto = client.post(
        "/api/credits/auto-top-up", {"enabled": False, "threshold": 0, "amount": 500}, format="json"
    )
    assert auto.status_code == 403
    assert payments_on.requests == []


# --- the webhook ------------------------------------------------------------------------------


def test_it_credits_a_paid_checkout_once(
    payments_on: StripeServer, owner: User, owner_client: APIClient, api_client: APIClient
) -> None:
    before = credit_balance_get(user_id=owner.pk)
    assert _top_up(owner_client, 1000).status_code == 200
    session_id = next(iter(payments_on.sessions))
    body = payments_on.checkout_completed_event(session_id)
    response = _deliver(api_client, body)
    assert response.status_code == 200
    assert response.json() == {"received": True}
    assert credit_balance_get(user_id=owner.pk) == before + 1000
    entry = CreditTransaction.objects.get(user=owner, transaction_key=f"checkout:{session_id}")
    assert entry.is_active
    assert entry.running_balance == before + 1000
    # Stripe delivers at least once: the same event again credits nothing more.
    assert _deliver(api_client, body).status_code == 200
    assert credit_balance_get(user_id=owner.pk) == before + 1000
    assert CreditTransaction.objects.filter(user=owner, type="TOP_UP").count() == 1


def test_it_credits_a_paid_checkout_whose_pending_entry_was_lost(
    payments_on: StripeServer, owner: User, owner_client: APIClient, api_client: APIClient
) -> None:
    before = credit_balance_get(user_id=owner.pk)
    assert _top_up(owner_client, 700).status_code == 200
    session_id = next(iter(payments_on.sessions))
    CreditTransaction.objects.filter(transaction_key=f"checkout:{session_id}").delete()
    assert _deliver(api_client, payments_on.checkout_completed_event(session_id)).status_code == 200
    entry = CreditTransaction.objects.get(user=owner, transaction_key=f"checkout:{session_id}")
    assert (entry.amount, entry.is_active) == (700, True)
    assert credit_balance_get(user_id=owner.pk) == before + 700


def test_it_saves_the_customer_and_card_of_a_paid_checkout(
    payments_on: StripeServer, owner: User, owner_client: APIClient, api_client: APIClient
) -> None:
    session_id = _paid_top_up(owner_client, api_client, payments_on, payment_method="pm_saved")
    config = AutoTopUpConfig.objects.get(user=owner)
    assert config.stripe_customer_id == payments_on.sessions[session_id]["customer"]
    assert config.stripe_customer_id.startswith("cus_")
    assert config.payment_method_id == "pm_saved"
    assert not config.enabled
    intent_id = payments_on.sessions[session_id]["payment_intent"]
    assert len(payments_on.requests_to("GET", f"/v1/payment_intents/{intent_id}")) == 1


@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=deadbeef", "garbage", None],
    ids=["empty", "wrong-hmac", "malformed", "other-secret"],
)
def test_it_refuses_a_webhook_with_a_bad_signature(
    payments_on: StripeServer,
    owner: User,
    owner_client: APIClient,
    api_client: APIClient,
    signature: str | None,
) -> None:
    before = credit_balance_get(user_id=owner.pk)
    assert _top_up(owner_client, 1000).status_code == 200
    body = payments_on.checkout_completed_event(next(iter(payments_on.sessions)))
    payload = json.dumps(body).encode()
    header = sign_webhook(payload, "whsec_forged") if signature is None else signature
    response = api_client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400
    assert response.json()["error"]["error_code"] == "VALIDATION_ERROR"
    assert credit_balance_get(user_id=owner.pk) == before
    assert not CreditTransaction.objects.filter(user=owner, is_active=True, type="TOP_UP").exists()
    assert not AutoTopUpConfig.objects.filter(user=owner).exists()


def test_it_refuses_a_webhook_signed_too_long_ago(
    payments_on: StripeServer, owner: User, owner_client: APIClient, api_client: APIClient
) -> None:
    assert _top_up(owner_client, 1000).status_code == 200
    body = payments_on.checkout_completed_event(next(iter(payments_on.sessions)))
    payload = json.dumps(body).encode()
    replayed = sign_webhook(payload, WEBHOOK_SECRET, timestamp=1_600_000_000)
    response = api_client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=replayed
    )
    assert response.status_code == 400
    assert not CreditTransaction.objects.filter(user=owner, is_active=True, type="TOP_UP").exists()


def test_it_acknowledges_and_ignores_other_events(
    payments_on: StripeServer, owner: User, owner_client: APIClient, api_client: APIClient
) -> None:
    assert _top_up(owner_client, 1000).status_code == 200
    session = dict(payments_on.sessions[next(iter(payments_on.sessions))])
    unpaid = event("checkout.session.completed", session)  # async payment still pending
    expired = event("checkout.session.expired", {**session, "payment_status": "paid"})
    for body in (unpaid, expired, event("customer.created", {"id": "cus_1"})):
        response = _deliver(api_client, body)
        assert response.status_code == 200
        assert response.json() == {"received": True}
    assert not CreditTransaction.objects.filter(user=owner, is_active=True, type="TOP_UP").exists()


# --- auto top-up settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "amount"),
    [(100, 499), (100, 750), (-1, 1000), (1000, 1000), (2000, 1000)],
)
def test_it_validates_auto_top_up_settings(
    payments_on: StripeServer, owner: User, owner_client: APIClient, threshold: int, amount: int
) -> None:
    _saved_card(owner)
    response = owner_client.post(
        "/api/credits/auto-top-up",
        {"enabled": True, "threshold": threshold, "amount": amount},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["error_code"] == "VALIDATION_ERROR"
    assert not AutoTopUpConfig.objects.get(user=owner).enabled


def test_it_needs_a_saved_card_to_enable_auto_top_up(
    payments_on: StripeServer, owner_client: APIClient
) -> None:
    settings_body = {"enabled": True, "threshold": 100, "amount": 1000}
    response = owner_client.post("/api/credits/auto-top-up", settings_body, format="json")
    assert response.status_code == 400
    assert "saved card" in response.json()["error"]["message"]
    assert owner_client.get("/api/credits/auto-top-up").json() == {
        "enabled": False,
        "threshold": 100,
        "amount": 1000,
        "has_payment_method": False,
    }


def test_it_enables_auto_top_up_after_a_card_top_up(
    payments_on: StripeServer, owner_client: APIClient, api_client: APIClient
) -> None:
    _paid_top_up(owner_client, api_client, payments_on)
    body = {"enabled": True, "threshold": 200, "amount": 2000}
    expected = {**body, "has_payment_method": True}
    response = owner_client.post("/api/credits/auto-top-up", body, format="json")
    assert response.status_code == 200
    assert response.json() == expected
    assert owner_client.get("/api/credits/auto-top-up").json() == expected


# --- auto top-up charges ----------------------------------------------------------------------


def _enabled(user: User, payment_method: str = "pm_card_visa") -> AutoTopUpConfig:
    _saved_card(user, payment_method)
    auto_top_up_config_set(user=user, enabled=True, threshold=300, amount=1000)
    return AutoTopUpConfig.objects.get(user=user)


def test_it_tops_up_once_per_execution_below_the_threshold(
    payments_on: StripeServer, owner: User
) -> None:
    _enabled(owner)
    _lower_balance_to(owner, 100)
    run = uuid.uuid4()
    auto_top_up_maybe(user_id=owner.pk, graph_exec_id=run)
    _lower_balance_to(owner, 100)  # the run keeps spending: still below the threshold
    auto_top_up_maybe(user_id=owner.pk, graph_exec_id=run)
    (request,) = payments_on.requests_to("POST", "/v1/payment_intents")
    assert request.params["amount"] == "1000"
    assert request.params["currency"] == "usd"
    assert request.params["customer"] == "cus_alice"
    assert request.params["payment_method"] == "pm_card_visa"
    assert request.params["off_session"] == "true"
    assert request.params["confirm"] == "true"
    (entry,) = CreditTransaction.objects.filter(user=owner, type="TOP_UP")
    assert entry.transaction_key == f"auto-top-up:{run}"
    assert (entry.amount, entry.is_active) == (1000, True)
    assert credit_balance_get(user_id=owner.pk) == 100
    # Another execution that finds the balance low again pays again.
    auto_top_up_maybe(user_id=owner.pk, graph_exec_id=uuid.uuid4())
    assert len(payments_on.requests_to("POST", "/v1/payment_intents")) == 2
    assert credit_balance_get(user_id=owner.pk) == 1100


def test_it_does_not_top_up_at_or_above_the_threshold(
    payments_on: StripeServer, owner: User
) -> None:
    _enabled(owner)
    _lower_balance_to(owner, 300)
    auto_top_up_maybe(user_id=owner.pk, graph_exec_id=uuid.uuid4())
    assert payments_on.requests_to("POST", "/v1/payment_intents") == []
    assert credit_balance_get(user_id=owner.pk) == 300


def test_it_does_not_top_up_when_disabled(payments_on: StripeServer, owner: User) -> None:
    _saved_card(owner)
    _lower_balance_to(owner, 0)
    auto_top_up_maybe(user_id=owner.pk, graph_exec_id=uuid.uuid4())
    assert payments_on.requests_to("POST", "/v1/payment_intents") == []
    assert credit_balance_get(user_id=owner.pk) == 0


def test_a_declined_card_credits_nothing_and_does_not_fail_the_run(
    payments_on: StripeServer, owner: User, caplog: pytest.LogCaptureFixture
) -> None:
    _enabled(owner, payment_method=DECLINED_PAYMENT_METHOD)
    _lower_balance_to(owner, 50)
    run = uuid.uuid4()
    with caplog.at_level(logging.WARNING, logger="apps.credits.payments"):
        auto_top_up_maybe(user_id=owner.pk, graph_exec_id=run)
    assert len(payments_on.requests_to("POST", "/v1/payment_intents")) == 1
    assert "declined" in caplog.text
    assert credit_balance_get(user_id=owner.pk) == 50
    assert not CreditTransaction.objects.filter(user=owner, type="TOP_UP").exists()
    # Asking again for the same run repeats the same idempotent request: Stripe replays the
    # decline instead of trying the card a second time.
    auto_top_up_maybe(user_id=owner.pk, graph_exec_id=run)
    requests = payments_on.requests_to("POST", "/v1/payment_intents")
    assert len(requests) == 2
    assert requests[0].headers["Idempotency-Key"] == requests[1].headers["Idempotency-Key"]
    assert len(payments_on.payment_intents) == 1
    assert credit_balance_get(user_id=owner.pk) == 50


@pytest.mark.django_db(transaction=True)
def test_runs_ending_together_top_up_once(payments_on: StripeServer, owner: User) -> None:
    _enabled(owner)
    _lower_balance_to(owner, 100)
    start = threading.Barrier(6)

    def run_ends() -> None:
        start.wait()
        try:
            auto_top_up_maybe(user_id=owner.pk, graph_exec_id=uuid.uuid4())
        finally:
            connection.close()

    threads = [threading.Thread(target=run_ends) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # The first one pays; the others wait for the lock and find the balance topped up.
    assert len(payments_on.requests_to("POST", "/v1/payment_intents")) == 1
    assert credit_balance_get(user_id=owner.pk) == 1100
