"""Delivery rules: in-app always, email only with the preference on and within the daily cap,
runs in a digest, block failures backed off; emails checked in Django's outbox (locmem)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from apps.notifications import selectors, services
from apps.notifications.content import credits_phrase
from apps.notifications.models import EmailDelivery, Notification, NotificationBackoff
from apps.users.models import User
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db


def _low_balance(user: User, key: str = "1") -> Notification:
    notification = services.notification_send(
        user_id=user.pk, type="low_balance", data={"balance": 42, "threshold": 100}, dedupe_key=key
    )
    assert notification is not None
    return notification


def test_preference_off_means_an_in_app_notification_but_no_email(
    owner: User, owner_client: APIClient, mailoutbox: list
) -> None:
    response = owner_client.put(
        "/api/user",
        {"notification_preferences": {"notify_on_low_balance": False}},
        format="json",
    )
    assert response.status_code == 200
    notification = _low_balance(User.objects.get(pk=owner.pk))
    assert notification.email_status == "off"
    assert mailoutbox == []
    listed = owner_client.get("/api/notifications").json()["data"]
    assert [n["title"] for n in listed] == ["Your credit balance is low"]
    assert listed[0]["message"] == "42 credits left (below 100)."
    assert listed[0]["is_read"] is False


def test_preference_on_sends_an_html_and_text_email(owner: User, mailoutbox: list) -> None:
    notification = _low_balance(owner)
    assert notification.email_status == "sent"
    [message] = mailoutbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Your credit balance is low"
    assert "42 credits left (below 100)." in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    assert "<h2" in html
    assert "42 credits left" in html
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("http://127.0.0.1:8000/notifications/unsubscribe/")
    assert unsubscribe in message.body
    assert unsubscribe in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_producer_retry_delivers_nothing_twice(owner: User, mailoutbox: list) -> None:
    first = _low_balance(owner, key="same")
    again = _low_balance(owner, key="same")
    assert again.pk == first.pk
    assert Notification.objects.count() == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_daily_cap_holds_under_a_burst_of_20(owner: User, mailoutbox: list) -> None:
    start = threading.Barrier(20)

    def event(n: int) -> str:
        try:
            start.wait(timeout=30)
            return _low_balance(owner, key=f"burst-{n}").email_status
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(event, range(20)))
    assert sorted(statuses).count("sent") == owner.max_emails_per_day == 3
    assert statuses.count("capped") == 17
    assert len(mailoutbox) == 3
    assert EmailDelivery.objects.filter(user=owner).count() == 3
    assert Notification.objects.filter(user=owner).count() == 20
    # The cap is per day of the user: tomorrow brings three more.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1)):
        assert _low_balance(owner, key="tomorrow").email_status == "sent"
    assert len(mailoutbox) == 4


def _graph(client: APIClient, name: str) -> dict:
    return client.post("/api/graphs", echo_graph(name), format="json").json()


def _run_finished(user: User, graph: dict, n: int, status: str = "completed", errors: int = 0):
    services.run_finished_notify(
        execution_id=f"00000000-0000-0000-0000-{n:012d}",
        user_id=str(user.pk),
        graph_id=graph["id"],
        graph_version=1,
        graph_name=graph["name"],
        status=status,
        node_error_count=errors,
        cost=n,
        duration_seconds=1.5,
    )


def test_the_digest_groups_runs_per_agent(
    owner: User, owner_client: APIClient, mailoutbox: list
) -> None:
    news, mail = _graph(owner_client, "News digest"), _graph(owner_client, "Mail sorter")
    _run_finished(owner, news, 1)
    _run_finished(owner, news, 2)
    _run_finished(owner, news, 3, status="failed")
    _run_finished(owner, mail, 4)
    runs = Notification.objects.filter(user=owner, type="agent_run")
    assert runs.count() == 4
    assert set(runs.values_list("email_status", flat=True)) == {"pending"}
    assert mailoutbox == []  # runs wait for the digest
    assert services.notification_digests_send() == 1
    [digest] = mailoutbox
    assert digest.subject == "Your agents ran 4 times"
    assert (
        "- News digest: 3 runs, 2 completed (0 with errors), 1 not completed, 6 credits"
    ) in digest.body
    assert (
        "- Mail sorter: 1 run, 1 completed (0 with errors), 0 not completed, 4 credits"
    ) in digest.body
    assert digest.body.index("News digest") < digest.body.index("Mail sorter")
    assert "<td>News digest</td>" in digest.alternatives[0][0]
    assert set(runs.values_list("email_status", flat=True)) == {"sent"}
    assert services.notification_digests_send() == 0
    assert len(mailoutbox) == 1


def test_runs_of_a_user_who_turned_run_emails_off_stay_out_of_the_digest(
    owner: User, owner_client: APIClient, mailoutbox: list
) -> None:
    owner.notify_on_agent_run = False
    owner.save()
    _run_finished(owner, _graph(owner_client, "Quiet"), 1)
    assert Notification.objects.get(type="agent_run").email_status == "off"
    assert services.notification_digests_send() == 0
    assert mailoutbox == []


def test_block_failures_are_backed_off_per_graph(
    owner: User, owner_client: APIClient, settings
) -> None:
    settings.NOTIFICATION_BACKOFF_MINUTES = 15
    graph = _graph(owner_client, "Flaky")
    t0 = datetime(2026, 4, 1, 12, tzinfo=UTC)

    def failure(minutes: int, n: int) -> None:
        with time_machine.travel(t0 + timedelta(minutes=minutes), tick=False):
            _run_finished(owner, graph, n, errors=2)

    def notices() -> list[dict]:
        found = Notification.objects.filter(type="block_execution_failed").order_by("created_at")
        return [n.data for n in found]

    failure(0, 1)
    failure(5, 2)
    failure(10, 3)
    assert [n["execution_id"][-1] for n in notices()] == ["1"]
    failure(16, 4)  # the 15-minute window has passed
    assert [n["suppressed"] for n in notices()] == [0, 2]
    failure(40, 5)  # inside the doubled (30-minute) window
    failure(47, 6)
    assert len(notices()) == 3
    assert notices()[-1]["suppressed"] == 1
    # A clean run ends the back-off: the next failure is told at once.
    with time_machine.travel(t0 + timedelta(minutes=48), tick=False):
        _run_finished(owner, graph, 7)
    assert not NotificationBackoff.objects.exists()
    failure(49, 8)
    assert len(notices()) == 4
    assert Notification.objects.filter(type="agent_run").count() == 8


@pytest.mark.parametrize(
    ("amount", "phrase"), [(1, "1 credit"), (-1, "-1 credit"), (0, "0 credits"), (2, "2 credits")]
)
def test_it_counts_credits_in_good_english(amount: int, phrase: str) -> None:
    assert credits_phrase(amount) == phrase


def test_the_digest_counts_runs_completed_with_errors(owner: User, owner_client: APIClient) -> None:
    news = _graph(owner_client, "News digest")
    _run_finished(owner, news, 1)
    _run_finished(owner, news, 2, errors=2)
    runs = list(Notification.objects.filter(user=owner, type="agent_run"))
    [group] = selectors.digest_groups(runs)
    assert (group["runs"], group["completed"], group["with_errors"]) == (2, 2, 1)
    titles = {n.data["execution_id"][-1]: n.title for n in runs}
    assert titles == {
        "1": "News digest finished: completed",
        "2": "News digest finished: completed with errors",
    }
