"""Notifications leave the process: pushed on /ws (the real ASGI server), produced by signals
through the real worker, and emailed through a real SMTP server on loopback."""

import json

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from websockets.sync.client import connect

from apps.credits import signals as credit_signals
from apps.credits.services import credit_apply, credit_grant, credit_refund
from apps.executions.models import GraphExecution
from apps.notifications import services
from apps.notifications.models import Notification
from apps.store import signals as store_signals
from apps.users.models import User
from tests.graphs.graphs import echo_graph
from tests.processes import WorkerProcess, wait_for
from tests.smtp_server import SmtpSink


def test_a_websocket_client_receives_its_notification(asgi_server, owner: User) -> None:
    token = str(AccessToken.for_user(owner))
    with connect(f"{asgi_server.ws_url}/ws?token={token}") as socket:
        socket.send(json.dumps({"method": "heartbeat"}))  # the socket has joined its groups
        assert json.loads(socket.recv(timeout=5))["data"] == "pong"
        notification = services.notification_send(
            user_id=owner.pk, type="low_balance", data={"balance": 9, "threshold": 100},
            dedupe_key="ws",
        )  # fmt: skip
        message = json.loads(socket.recv(timeout=10))
    assert message["method"] == "notification"
    assert message["success"] is True
    assert message["channel"] == f"user.{owner.pk}"
    assert message["data"]["id"] == str(notification.pk)
    assert message["data"]["type"] == "low_balance"
    assert message["data"]["title"] == "Your credit balance is low"
    assert message["data"]["is_read"] is False


@pytest.fixture(scope="module")
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def mail_worker(django_db_setup, django_db_blocker, smtp_sink):
    """A worker whose email goes through Django's SMTP backend to the sink."""
    env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_sink.port), "EMAIL_USE_TLS": "false"}
    process = WorkerProcess(hostname="mail-worker", env=env).start()
    yield process
    process.stop()


@pytest.mark.django_db(transaction=True)
def test_signals_become_notifications_and_email_reaches_a_real_smtp_server(
    mail_worker, smtp_sink, owner: User, owner_client: APIClient
) -> None:
    credit_signals.balance_zero.send(None, user_id=owner.pk)
    notification = wait_for(
        lambda: Notification.objects.filter(user=owner, type="zero_balance").first(),
        timeout=30,
        what="the worker to deliver zero_balance",
    )
    message = wait_for(
        lambda: next((m for m in smtp_sink.messages if m["Subject"] == notification.title), None),
        timeout=30,
        what="the email at the SMTP server",
    )
    assert message["To"] == "alice@example.com"
    text = message.get_body(preferencelist=("plain",)).get_content()
    # A long header is folded on the wire; unfolded it is the link.
    unsubscribe = "".join(message["List-Unsubscribe"].split())
    assert unsubscribe.startswith("<http://127.0.0.1:8000/notifications/unsubscribe/")
    assert unsubscribe.strip("<>") in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Runs stop until you top up your credits." in text
    assert "Runs stop until you top up your credits." in html
    assert "<html" in html

    store_signals.submission_reviewed.send(
        None,
        user_id=owner.pk,
        listing_version_id="5d0c1a4e-0000-4000-8000-000000000001",
        agent_name="Otter Finder",
        status="REJECTED",
        reviewer_comments="Add a description.",
    )
    rejected = wait_for(
        lambda: Notification.objects.filter(user=owner, type="agent_rejected").first(),
        timeout=30,
        what="agent_rejected",
    )
    assert rejected.title == "Otter Finder was not approved for the store"
    assert rejected.message == "Add a description."

    graph = owner_client.post("/api/graphs", echo_graph("Echo agent"), format="json").json()
    run = owner_client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "x"}}, format="json"
    ).json()
    finished = wait_for(
        lambda: Notification.objects.filter(user=owner, type="agent_run").first(),
        timeout=30,
        what="the run's agent_run notification",
    )
    assert finished.data["execution_id"] == run["id"]
    assert finished.data["graph_name"] == "Echo agent"
    assert finished.data["status"] == "completed"
    assert finished.data["duration_seconds"] > 0
    assert finished.email_status == "pending"  # it waits for the digest
    assert GraphExecution.objects.get(pk=run["id"]).status == "completed"


@pytest.mark.django_db(transaction=True)
def test_a_refund_and_a_low_balance_notify(mail_worker, owner: User, staff: User) -> None:
    spent = credit_grant(user_id=owner.pk, amount=-950, reason="spent", granted_by=staff)
    assert spent.running_balance == 50  # crossed the low threshold (100)
    low = wait_for(
        lambda: Notification.objects.filter(user=owner, type="low_balance").first(),
        timeout=30,
        what="low_balance",
    )
    assert low.data == {"balance": 50, "threshold": 100}
    charge = credit_apply(user_id=owner.pk, amount=-5, type="USAGE", transaction_key="u1")
    credit_refund(transaction_id=charge.pk, refunded_by=staff)
    refund = wait_for(
        lambda: Notification.objects.filter(user=owner, type="refund_processed").first(),
        timeout=30,
        what="refund_processed",
    )
    assert refund.message == "5 credits were returned to your balance."
