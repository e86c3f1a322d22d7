"""Schedules as a contract (SPEC §17): the next 5 firing times, the firing ledger, one run per
firing time however often it is delivered, and the catch_up policy for firings missed while beat
was down — driven by the schedule's own task logic and beat's scheduler under a frozen clock."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from apps.executions.models import GraphExecution
from apps.schedules import services
from apps.schedules.models import Schedule, ScheduleAttempt
from tests.dashboard.helpers import signed_in
from tests.graphs.graphs import echo_graph
from tests.processes import wait_for
from tests.schedules.beat import fire, is_due

pytestmark = pytest.mark.django_db(transaction=True)
CREATED = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)


def _schedule(client: APIClient, cron: str = "0 * * * *", **extra) -> Schedule:
    graph = client.post("/api/graphs", echo_graph(), format="json").json()
    body = {"name": "Hourly", "cron": cron, "timezone": "UTC", "inputs": {"topic": "x"}, **extra}
    with time_machine.travel(CREATED, tick=False):
        response = client.post(f"/api/graphs/{graph['id']}/schedules", body, format="json")
    assert response.status_code == 201, response.content
    return Schedule.objects.get(pk=response.json()["id"])


def _ledger(schedule: Schedule) -> list[tuple[str, str]]:
    rows = ScheduleAttempt.objects.filter(schedule=schedule).order_by("firing_time", "fired_at")
    return [(f"{row.firing_time:%H:%M}", row.status) for row in rows]


def _wait_runs_end(user) -> None:
    runs = GraphExecution.objects.filter(user=user)
    wait_for(
        lambda: not runs.exclude(status__in=["completed", "failed", "cancelled"]).exists(),
        timeout=60,
        what="the scheduled runs to end",
    )


def test_the_next_five_firing_times_are_dst_correct(owner_client: APIClient) -> None:
    graph = owner_client.post("/api/graphs", echo_graph(), format="json").json()
    body = {
        "name": "Morning",
        "cron": "0 9 * * *",
        "timezone": "Europe/Berlin",
        "inputs": {"topic": "x"},
    }
    with time_machine.travel(datetime(2026, 3, 27, 12, tzinfo=UTC), tick=False):
        created = owner_client.post(f"/api/graphs/{graph['id']}/schedules", body, format="json")
        assert created.status_code == 201, created.content
        detail = owner_client.get(f"/api/schedules/{created.json()['id']}").json()
    assert detail["catch_up"] == "skip"
    assert detail["next_run_times"] == [
        "2026-03-28T09:00:00+01:00",
        "2026-03-29T09:00:00+02:00",  # summer time began that night
        "2026-03-30T09:00:00+02:00",
        "2026-03-31T09:00:00+02:00",
        "2026-04-01T09:00:00+02:00",
    ]
    assert detail["next_run_time"] == detail["next_run_times"][0]
    paused = owner_client.patch(
        f"/api/schedules/{detail['id']}", {"is_enabled": False}, format="json"
    ).json()
    assert paused["next_run_times"] == []
    bad = owner_client.patch(f"/api/schedules/{detail['id']}", {"catch_up": "all"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["error_code"] == "VALIDATION_ERROR"


def test_a_firing_delivered_twice_starts_one_run_and_records_deduplicated(
    worker, owner_client: APIClient
) -> None:
    schedule = _schedule(owner_client)
    sent = datetime(2026, 6, 1, 9, 0, 0, 400_000, tzinfo=UTC)
    first = services.schedule_fire(schedule_id=schedule.pk, task_id="beat-1", sent_at=sent)
    # The same message redelivered, and a second beat's message for the same firing time.
    again = services.schedule_fire(schedule_id=schedule.pk, task_id="beat-1", sent_at=sent)
    other = services.schedule_fire(
        schedule_id=schedule.pk, task_id="beat-2", sent_at=sent + timedelta(seconds=3)
    )
    assert first.status == "fired"
    assert first.firing_time == datetime(2026, 6, 1, 9, tzinfo=UTC)
    assert (again.status, other.status) == ("deduplicated", "deduplicated")
    assert again.graph_execution_id == other.graph_execution_id == first.graph_execution_id
    assert GraphExecution.objects.filter(user=schedule.user).count() == 1
    assert _ledger(schedule) == [
        ("09:00", "fired"),
        ("09:00", "deduplicated"),
        ("09:00", "deduplicated"),
    ]
    # The next firing time is a run of its own.
    services.schedule_fire(
        schedule_id=schedule.pk, task_id="beat-3", sent_at=sent + timedelta(hours=1)
    )
    assert GraphExecution.objects.filter(user=schedule.user).count() == 2
    detail = owner_client.get(f"/api/schedules/{schedule.pk}").json()
    assert [(a["status"], a["firing_time"]) for a in detail["recent_attempts"]][:2] == [
        ("fired", "2026-06-01T10:00:00Z"),
        ("fired", "2026-06-01T09:00:00Z"),
    ]
    assert {a["status"] for a in detail["recent_attempts"]} == {"fired", "deduplicated"}
    _wait_runs_end(schedule.user)


def _beat_down_over_two_firings(schedule: Schedule) -> datetime:
    """Beat fires 09:00, is down from 09:30 to 11:30 (10:00 and 11:00 missed) and, restarted,
    fires the entry at once; returns the restart moment."""
    name = schedule.periodic_task.name
    nine = datetime(2026, 6, 1, 9, tzinfo=UTC)
    assert is_due(name, nine)
    fire(name, nine)  # beat records its last run
    services.schedule_fire(schedule_id=schedule.pk, task_id="beat-0900", sent_at=nine)
    restart = datetime(2026, 6, 1, 11, 30, tzinfo=UTC)
    assert is_due(name, restart)  # beat, back up, fires the overdue entry once
    fire(name, restart)
    assert not is_due(name, restart + timedelta(seconds=1))
    return restart


def test_catch_up_run_once_runs_once_on_restart(worker, owner_client: APIClient) -> None:
    schedule = _schedule(owner_client, catch_up="run_once")
    restart = _beat_down_over_two_firings(schedule)
    caught = services.schedule_fire(schedule_id=schedule.pk, task_id="beat-1130", sent_at=restart)
    assert caught.status == "fired"
    assert caught.firing_time == datetime(2026, 6, 1, 11, tzinfo=UTC)
    assert "caught up" in caught.reason.lower()
    # A second delivery of the restart's message starts nothing more.
    services.schedule_fire(schedule_id=schedule.pk, task_id="beat-1130", sent_at=restart)
    assert _ledger(schedule) == [
        ("09:00", "fired"),
        ("10:00", "skipped"),
        ("11:00", "fired"),
        ("11:00", "deduplicated"),
    ]
    assert GraphExecution.objects.filter(user=schedule.user).count() == 2  # 09:00 and one more
    _wait_runs_end(schedule.user)


def test_catch_up_skip_records_the_missed_firings_and_runs_nothing(
    worker, owner_client: APIClient
) -> None:
    schedule = _schedule(owner_client)
    restart = _beat_down_over_two_firings(schedule)
    skipped = services.schedule_fire(schedule_id=schedule.pk, task_id="beat-1130", sent_at=restart)
    assert skipped.status == "skipped"
    assert skipped.graph_execution_id is None
    assert _ledger(schedule) == [("09:00", "fired"), ("10:00", "skipped"), ("11:00", "skipped")]
    assert GraphExecution.objects.filter(user=schedule.user).count() == 1
    # Back on time at 12:00: it runs.
    noon = services.schedule_fire(
        schedule_id=schedule.pk, task_id="beat-1200", sent_at=datetime(2026, 6, 1, 12, tzinfo=UTC)
    )
    assert noon.status == "fired"
    assert GraphExecution.objects.filter(user=schedule.user).count() == 2
    _wait_runs_end(schedule.user)


def test_a_resumed_schedule_does_not_owe_the_firings_it_was_paused_over(
    owner_client: APIClient,
) -> None:
    schedule = _schedule(owner_client, catch_up="run_once")
    with time_machine.travel(datetime(2026, 6, 1, 8, 45, tzinfo=UTC), tick=False):
        owner_client.patch(f"/api/schedules/{schedule.pk}", {"is_enabled": False}, format="json")
    with time_machine.travel(datetime(2026, 6, 1, 11, 30, tzinfo=UTC), tick=False):
        owner_client.patch(f"/api/schedules/{schedule.pk}", {"is_enabled": True}, format="json")
    # Beat fires a resumed entry at once: nothing is owed yet.
    row = services.schedule_fire(
        schedule_id=schedule.pk,
        task_id="beat-resume",
        sent_at=datetime(2026, 6, 1, 11, 30, 1, tzinfo=UTC),
    )
    assert row.status == "skipped"
    assert not GraphExecution.objects.filter(user=schedule.user).exists()


def test_the_schedule_page_shows_next_firings_and_the_ledger(
    owner, owner_client: APIClient
) -> None:
    alice: Client = signed_in(owner)
    schedule = _schedule(owner_client)
    ScheduleAttempt.objects.create(
        schedule=schedule,
        status="skipped",
        firing_time=datetime(2026, 6, 1, 10, tzinfo=UTC),
        reason="Missed while the scheduler was down (catch_up: skip).",
    )
    page = alice.get(f"/schedules/{schedule.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-outcome="skipped"' in html
    assert "Missed while the scheduler was down" in html
    assert html.count("<li><time") == 5
