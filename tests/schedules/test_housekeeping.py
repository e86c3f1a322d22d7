"""Housekeeping beat entries are declared in settings and synced into beat's tables by a
command that `runplatform` runs; the cleanup job; the admin of schedules."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
from rest_framework.test import APIClient

from apps.executions.models import GraphExecution
from apps.executions.services import execution_cleanup
from apps.schedules.services import HOUSEKEEPING, housekeeping_sync
from apps.users.models import User
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db


def _schedule(client: APIClient) -> dict:
    graph = client.post("/api/graphs", echo_graph(), format="json").json()
    body = {"name": "Nightly", "cron": "0 2 * * *", "inputs": {"topic": "x"}}
    return client.post(f"/api/graphs/{graph['id']}/schedules", body, format="json").json()


def test_the_command_syncs_every_declared_entry() -> None:
    out = StringIO()
    call_command("sync_housekeeping", stdout=out)
    declared = settings.HOUSEKEEPING_SCHEDULE
    tasks = {task.name: task for task in PeriodicTask.objects.filter(description=HOUSEKEEPING)}
    assert set(tasks) == set(declared)
    assert {"executions.watchdog", "executions.cleanup", "credits.monthly_refill"} <= {
        task.task for task in tasks.values()
    }
    assert {"notifications.send_digests", "notifications.send_summaries"} <= {
        task.task for task in tasks.values()
    }
    watchdog = tasks["execution-watchdog"]
    assert watchdog.interval.every == settings.WATCHDOG_INTERVAL_SECONDS
    assert watchdog.interval.period == IntervalSchedule.SECONDS
    # SPEC §17: a lost worker's run is looked for twice per lease period.
    rescue = tasks["execution-rescue"]
    assert rescue.task == "executions.rescue"
    assert rescue.interval.every <= settings.EXECUTION_LEASE_SECONDS / 2
    summaries = tasks["notification-summaries"]
    assert (summaries.crontab.minute, summaries.crontab.hour) == ("5", "*")
    assert summaries.queue == "notifications"
    assert f"{len(declared)} entries declared" in out.getvalue()


def test_sync_updates_removes_stale_entries_and_leaves_others_alone(
    owner_client: APIClient,
) -> None:
    agent = _schedule(owner_client)
    manual = PeriodicTask.objects.create(
        name="staff-made",
        task="executions.watchdog",
        interval=IntervalSchedule.objects.create(every=99, period="seconds"),
    )
    # An entry of the same name from before (settings' CELERY_BEAT_SCHEDULE) is taken over.
    PeriodicTask.objects.create(
        name="sweep",
        task="old.task",
        interval=IntervalSchedule.objects.create(every=5, period="seconds"),
    )
    housekeeping_sync(
        entries={
            "sweep": {"task": "a.sweep", "cron": "0 4 * * *"},
            "tick": {"task": "a.t", "every": 7},
        }
    )
    sweep = PeriodicTask.objects.get(name="sweep")
    assert (sweep.task, sweep.interval, sweep.crontab.hour) == ("a.sweep", None, "4")
    assert str(sweep.crontab.timezone) == "UTC"
    result = housekeeping_sync(entries={"tick": {"task": "a.t", "every": 9}})
    assert result == {"declared": 1, "removed": 1}
    assert not PeriodicTask.objects.filter(name="sweep").exists()
    assert PeriodicTask.objects.get(name="tick").interval.every == 9
    assert PeriodicTask.objects.filter(pk=manual.pk).exists()
    assert PeriodicTask.objects.filter(agent_schedule__id=agent["id"]).exists()
    again = housekeeping_sync(entries={"tick": {"task": "a.t", "every": 9}})
    assert again == {"declared": 1, "removed": 0}
    assert PeriodicTask.objects.filter(name="tick").count() == 1


def test_cleanup_expires_old_share_links_and_purges_old_deleted_runs(
    owner: User, owner_client: APIClient
) -> None:
    graph = owner_client.post("/api/graphs", echo_graph(), format="json").json()

    def run(**fields: object) -> GraphExecution:
        return GraphExecution.objects.create(
            graph_id=graph["id"], graph_version=1, user=owner, status="completed", **fields
        )

    now = timezone.now()
    old_share = run(share_token="old", shared_at=now - timedelta(days=91))
    new_share = run(share_token="new", shared_at=now - timedelta(days=89))
    old_deleted, new_deleted, old_kept = run(is_deleted=True), run(is_deleted=True), run()
    GraphExecution.objects.filter(pk__in=[old_deleted.pk, old_kept.pk]).update(
        created_at=now - timedelta(days=31)
    )
    assert execution_cleanup(now=now) == {"unshared": 1, "purged": 1}
    old_share.refresh_from_db()
    assert (old_share.share_token, old_share.shared_at) == (None, None)
    assert GraphExecution.objects.get(pk=new_share.pk).share_token == "new"
    assert not GraphExecution.objects.filter(pk=old_deleted.pk).exists()
    assert GraphExecution.objects.filter(pk__in=[new_deleted.pk, old_kept.pk]).count() == 2
    assert execution_cleanup(now=now) == {"unshared": 0, "purged": 0}


def test_staff_see_and_edit_schedules_in_the_admin(owner_client: APIClient) -> None:
    schedule = _schedule(owner_client)
    browser = Client()
    browser.force_login(User.objects.create_superuser("root@example.com", "x-long-password-1"))
    listing = browser.get("/admin/schedules/schedule/")
    assert listing.status_code == 200
    assert "Nightly" in listing.content.decode()
    url = f"/admin/schedules/schedule/{schedule['id']}/change/"
    assert browser.get(url).status_code == 200
    inline = {f"attempts-{k}": "0" for k in ("TOTAL_FORMS", "INITIAL_FORMS", "MAX_NUM_FORMS")}
    form = {**inline, "name": "Nightly", "cron": "0 25 * * *", "timezone": "UTC"}
    refused = browser.post(url, form)
    assert refused.status_code == 200  # the form again, with the error
    assert "not in 0-23" in refused.content.decode()
    form = {**inline, "name": "Late", "cron": "45 23 * * *", "timezone": "Asia/Tokyo"}
    saved = browser.post(url, form)
    assert saved.status_code == 302
    task = PeriodicTask.objects.get(agent_schedule__id=schedule["id"])
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == (
        "45",
        "23",
        "Asia/Tokyo",
    )
    assert task.enabled is False  # the "Enabled" box was left unticked: paused
    assert CrontabSchedule.objects.filter(hour="25").count() == 0
    assert browser.get("/admin/django_celery_beat/periodictask/").status_code == 200
