"""Daily, weekly and monthly summaries, computed over the user's own days."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.credits.models import CreditTransaction
from apps.credits.services import credit_apply
from apps.executions.models import GraphExecution
from apps.notifications import services
from apps.notifications.models import Notification
from apps.users.models import User
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db
PST = -8  # Los Angeles in January


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """A January 2026 local time in Los Angeles, as UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC) - timedelta(hours=PST)


def _run(user: User, graph: dict, created: datetime, status: str, seconds: float) -> None:
    run = GraphExecution.objects.create(
        graph_id=graph["id"], graph_version=1, user=user, status=status
    )
    GraphExecution.objects.filter(pk=run.pk).update(
        created_at=created, started_at=created, ended_at=created + timedelta(seconds=seconds)
    )


def _usage(user: User, amount: int, when: datetime) -> None:
    entry = credit_apply(
        user_id=user.pk, amount=-amount, type="USAGE", transaction_key=f"u-{when.isoformat()}"
    )
    CreditTransaction.objects.filter(pk=entry.pk).update(created_at=when)


def test_summaries_cover_the_users_local_day_week_and_month(
    owner: User, owner_client: APIClient, mailoutbox: list
) -> None:
    owner.timezone = "America/Los_Angeles"
    owner.save()
    news = owner_client.post("/api/graphs", echo_graph("News"), format="json").json()
    mail = owner_client.post("/api/graphs", echo_graph("Mail"), format="json").json()
    # Wednesday 14 January, local time; the last one is already the 15th in UTC.
    _run(owner, news, _at(14, 0, 30), "completed", 10)
    _run(owner, news, _at(14, 12), "failed", 20)
    _run(owner, mail, _at(14, 23, 30), "completed", 30)
    # The 13th in Los Angeles, though the 14th in UTC: another day here.
    _run(owner, mail, _at(13, 23), "completed", 40)
    _usage(owner, 5, _at(14, 1))
    _usage(owner, 7, _at(14, 23, 45))
    _usage(owner, 100, _at(15, 0, 5))  # the next local day

    with time_machine.travel(_at(15, 0, 10), tick=False):
        assert services.notification_summaries_send() == 1
    daily = Notification.objects.get(type="daily_summary")
    assert daily.dedupe_key == "daily_summary:2026-01-14"
    assert daily.data["runs"] == 3
    assert daily.data["completed"] == 2
    assert daily.data["success_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert daily.data["credits_used"] == 12
    assert daily.data["top_agent"] == "News"
    assert daily.data["top_agent_runs"] == 2
    assert daily.data["average_duration_seconds"] == 20.0
    assert daily.title == "Your daily summary: 3 runs"
    [message] = mailoutbox
    assert "Runs: 3" in message.body
    assert "Success rate: 67%" in message.body
    assert "Credits used: 12" in message.body
    assert "Top agent: News (2 runs)" in message.body
    assert "Average duration: 20.0 s" in message.body

    with time_machine.travel(_at(15, 5), tick=False):
        assert services.notification_summaries_send() == 0  # once per period

    # Monday 19 January after local midnight: the week of the 12th to the 18th (4 runs).
    with time_machine.travel(_at(19, 0, 10), tick=False):
        assert services.notification_summaries_send() == 1  # the 18th had no runs
    weekly = Notification.objects.get(type="weekly_summary")
    assert weekly.dedupe_key == "weekly_summary:2026-01-12"
    assert weekly.data["runs"] == 4
    assert weekly.data["top_agent"] in ("News", "Mail")

    with time_machine.travel(_at(31, 23), tick=False):
        services.notification_summaries_send()
    assert not Notification.objects.filter(type="monthly_summary").exists()
    with time_machine.travel(datetime(2026, 2, 1, 8, 10, tzinfo=UTC), tick=False):
        services.notification_summaries_send()
    monthly = Notification.objects.get(type="monthly_summary")
    assert monthly.dedupe_key == "monthly_summary:2026-01-01"
    assert monthly.data["runs"] == 4
    assert monthly.data["credits_used"] == 112


def test_a_summary_preference_off_keeps_the_summary_in_app_only(
    owner: User, owner_client: APIClient, mailoutbox: list
) -> None:
    owner.notify_on_daily_summary = False
    owner.save()
    graph = owner_client.post("/api/graphs", echo_graph(), format="json").json()
    _run(owner, graph, datetime(2026, 3, 3, 10, tzinfo=UTC), "completed", 3)
    with time_machine.travel(datetime(2026, 3, 4, 0, 30, tzinfo=UTC), tick=False):
        assert services.notification_summaries_send() == 1
    assert Notification.objects.get(type="daily_summary").email_status == "off"
    assert mailoutbox == []
