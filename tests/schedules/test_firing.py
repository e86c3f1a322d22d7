"""A firing schedule, end to end: beat's message goes to the broker, the real worker starts the
run through the same service as the API, and a run that cannot start is a recorded failure."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from rest_framework.test import APIClient

from apps.credits.selectors import credit_balance_get
from apps.credits.services import credit_grant
from apps.executions.models import GraphExecution
from apps.notifications.models import Notification
from apps.schedules import services
from apps.schedules.models import Schedule, ScheduleAttempt
from apps.users.models import User
from tests.graphs.graphs import echo_graph
from tests.processes import wait_for
from tests.schedules.beat import fire

pytestmark = pytest.mark.django_db(transaction=True)
CREATED = datetime(2026, 6, 1, 12, tzinfo=UTC)
DUE = datetime(2026, 6, 2, 7, tzinfo=UTC)  # 09:00 in Berlin (CEST)


def _scheduled(client: APIClient) -> tuple[Schedule, str]:
    graph = client.post("/api/graphs", echo_graph(), format="json").json()
    body = {
        "name": "Morning",
        "cron": "0 9 * * *",
        "timezone": "Europe/Berlin",
        "inputs": {"topic": "otters"},
    }
    with time_machine.travel(CREATED, tick=False):
        response = client.post(f"/api/graphs/{graph['id']}/schedules", body, format="json")
    assert response.status_code == 201, response.content
    schedule = Schedule.objects.get(pk=response.json()["id"])
    return schedule, schedule.periodic_task.name


def _attempt(schedule: Schedule) -> ScheduleAttempt:
    return wait_for(
        lambda: ScheduleAttempt.objects.filter(schedule=schedule).first(),
        timeout=30,
        what="the worker to take beat's message",
    )


def test_beat_firing_starts_a_run_that_completes(worker, owner_client: APIClient) -> None:
    schedule, name = _scheduled(owner_client)
    fire(name, DUE, send=True)
    attempt = _attempt(schedule)
    assert attempt.status == "fired"
    assert attempt.firing_time == DUE  # stamped on beat's message when beat sent it
    run = wait_for(
        lambda: GraphExecution.objects.filter(
            pk=attempt.graph_execution_id, status="completed"
        ).first(),
        timeout=30,
        what="the scheduled run to complete",
    )
    assert run.user_id == schedule.user_id
    assert (run.graph_id, run.graph_version) == (schedule.graph_id, schedule.graph_version)
    assert run.outputs == {"answer": ["otters"]}
    detail = owner_client.get(f"/api/schedules/{schedule.pk}").json()
    assert detail["recent_attempts"][0]["graph_execution_id"] == str(run.pk)
    assert detail["run_count"] == 1


def test_a_user_without_credits_gets_a_failed_attempt_and_a_notification(
    worker, owner: User, owner_client: APIClient
) -> None:
    schedule, name = _scheduled(owner_client)
    credit_grant(
        user_id=owner.pk, amount=-credit_balance_get(user_id=owner.pk), reason="t", granted_by=None
    )
    fire(name, DUE, send=True)
    attempt = _attempt(schedule)
    assert attempt.status == "failed"
    assert attempt.error_code == "INSUFFICIENT_CREDITS"
    assert attempt.graph_execution_id is None
    assert not GraphExecution.objects.filter(user=owner).exists()
    notification = wait_for(
        lambda: Notification.objects.filter(user=owner, type="continuous_agent_error").first(),
        timeout=30,
        what="the failed attempt's notification",
    )
    assert "Morning" in notification.title
    assert notification.data["error_code"] == "INSUFFICIENT_CREDITS"
    assert notification.data["schedule_id"] == str(schedule.pk)
    # The schedule stays: it fires again once the user has credits.
    assert PeriodicTask.objects.get(name=name).enabled


def test_a_redelivered_message_starts_one_run(worker, owner_client: APIClient) -> None:
    schedule, _ = _scheduled(owner_client)
    first = services.schedule_fire(schedule_id=schedule.pk, task_id="message-1", sent_at=DUE)
    again = services.schedule_fire(schedule_id=schedule.pk, task_id="message-1", sent_at=DUE)
    assert again.status == "deduplicated"
    assert again.graph_execution_id == first.graph_execution_id
    assert GraphExecution.objects.filter(user=schedule.user).count() == 1
    services.schedule_fire(
        schedule_id=schedule.pk, task_id="message-2", sent_at=DUE + timedelta(days=1)
    )
    runs = GraphExecution.objects.filter(user=schedule.user)
    assert runs.count() == 2
    # The runs went to the worker: let them end before the test's data is taken away.
    wait_for(
        lambda: not runs.exclude(status__in=["completed", "failed", "cancelled"]).exists(),
        timeout=60,
        what="the two runs to end",
    )


def test_a_message_for_a_removed_schedule_drops_its_beat_entry(db) -> None:
    schedule_id = uuid.uuid4()
    crontab = CrontabSchedule.objects.create(minute="0", hour="9")
    PeriodicTask.objects.create(
        name=f"schedule:{schedule_id}",
        task="schedules.fire",
        crontab=crontab,
        kwargs=json.dumps({"schedule_id": str(schedule_id)}),
    )
    assert services.schedule_fire(schedule_id=schedule_id, task_id="m") is None
    assert not PeriodicTask.objects.filter(name=f"schedule:{schedule_id}").exists()
