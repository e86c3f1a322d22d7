"""Agent schedules: created through the API with the run's validation, fired by beat at the
right instant in their time zone (DST included), paused, resumed and removed."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from apps.schedules.models import Schedule
from apps.users.models import User
from tests.graphs.graphs import echo_graph
from tests.schedules.beat import fire, is_due

# Beat closes database connections as it reads its entries: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)
SECOND = timedelta(seconds=1)


def _graph(client: APIClient) -> dict:
    response = client.post("/api/graphs", echo_graph(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _schedule(client: APIClient, graph: dict, **fields: object) -> dict:
    body = {"name": "Morning", "cron": "0 9 * * *", "inputs": {"topic": "otters"}, **fields}
    response = client.post(f"/api/graphs/{graph['id']}/schedules", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "created", "firings"),
    [
        # Berlin leaves CET (UTC+1) for CEST (UTC+2) on 2026-03-29: 09:00 local stays 09:00.
        ("Europe/Berlin", _utc(2026, 3, 27, 12), [_utc(2026, 3, 28, 8), _utc(2026, 3, 29, 7)]),
        # ... and comes back on 2026-10-25.
        ("Europe/Berlin", _utc(2026, 10, 23, 12), [_utc(2026, 10, 24, 7), _utc(2026, 10, 25, 8)]),
        # New York springs forward on 2026-03-08 (UTC-5 → UTC-4).
        ("America/New_York", _utc(2026, 3, 6, 18), [_utc(2026, 3, 7, 14), _utc(2026, 3, 8, 13)]),
        # Tokyo has no DST: 09:00 JST is always 00:00 UTC.
        ("Asia/Tokyo", _utc(2026, 3, 27, 12), [_utc(2026, 3, 28, 0), _utc(2026, 3, 29, 0)]),
    ],
)
def test_it_fires_at_nine_local_time_on_both_sides_of_a_dst_change(
    owner_client: APIClient, zone: str, created: datetime, firings: list[datetime]
) -> None:
    graph = _graph(owner_client)
    with time_machine.travel(created, tick=False):
        schedule = _schedule(owner_client, graph, timezone=zone)
    name = PeriodicTask.objects.get(agent_schedule__id=schedule["id"]).name
    first = datetime.fromisoformat(schedule["next_run_time"])
    assert first == firings[0]
    assert (first.hour, first.minute, str(first.utcoffset())) == (
        9,
        0,
        str(firings[0].astimezone(first.tzinfo).utcoffset()),
    )
    for moment in firings:
        assert not is_due(name, moment - SECOND), f"fired early before {moment}"
        assert is_due(name, moment), f"did not fire at {moment}"
        fire(name, moment)
        assert not is_due(name, moment + SECOND), f"fired twice at {moment}"
        assert not is_due(name, moment + timedelta(hours=12)), "fired again the same day"
    with time_machine.travel(firings[-1] + SECOND, tick=False):
        listed = owner_client.get(f"/api/schedules/{schedule['id']}").json()
    following = datetime.fromisoformat(listed["next_run_time"])
    assert following.astimezone(UTC) == firings[-1] + timedelta(days=1)
    assert (following.hour, following.minute) == (9, 0)
    assert listed["run_count"] == len(firings)


def test_the_time_zone_defaults_to_the_users(owner: User, owner_client: APIClient) -> None:
    owner.timezone = "Asia/Kolkata"
    owner.save()
    schedule = _schedule(owner_client, _graph(owner_client))
    assert schedule["timezone"] == "Asia/Kolkata"
    assert datetime.fromisoformat(schedule["next_run_time"]).utcoffset() == timedelta(
        hours=5, minutes=30
    )


def test_pause_stops_firings_and_resume_brings_them_back(owner_client: APIClient) -> None:
    graph = _graph(owner_client)
    with time_machine.travel(_utc(2026, 5, 1, 12), tick=False):
        schedule = _schedule(owner_client, graph, timezone="UTC")
    name = PeriodicTask.objects.get(agent_schedule__id=schedule["id"]).name
    nine = _utc(2026, 5, 2, 9)
    assert is_due(name, nine)
    with time_machine.travel(_utc(2026, 5, 1, 13), tick=False):
        paused = owner_client.patch(
            f"/api/schedules/{schedule['id']}", {"is_enabled": False}, format="json"
        )
    assert paused.status_code == 200, paused.content
    assert paused.json()["is_enabled"] is False
    assert paused.json()["next_run_time"] is None
    assert not is_due(name, nine)
    assert not is_due(name, nine + timedelta(days=1))
    with time_machine.travel(_utc(2026, 5, 3, 12), tick=False):
        resumed = owner_client.patch(
            f"/api/schedules/{schedule['id']}", {"is_enabled": True}, format="json"
        )
    assert resumed.json()["is_enabled"] is True
    assert datetime.fromisoformat(resumed.json()["next_run_time"]) == nine + timedelta(days=2)
    assert not is_due(name, nine + timedelta(days=2) - SECOND)
    assert is_due(name, nine + timedelta(days=2))


def test_deleting_the_graph_removes_its_schedules(owner_client: APIClient) -> None:
    graph, kept_graph = _graph(owner_client), _graph(owner_client)
    doomed = [_schedule(owner_client, graph), _schedule(owner_client, graph, cron="*/5 * * * *")]
    kept = _schedule(owner_client, kept_graph)
    task_ids = list(
        PeriodicTask.objects.filter(agent_schedule__id__in=[s["id"] for s in doomed]).values_list(
            "pk", flat=True
        )
    )
    assert len(task_ids) == 2
    assert owner_client.delete(f"/api/graphs/{graph['id']}").status_code == 204
    assert not Schedule.objects.filter(pk__in=[s["id"] for s in doomed]).exists()
    assert not PeriodicTask.objects.filter(pk__in=task_ids).exists()
    assert [s["id"] for s in owner_client.get("/api/schedules").json()["data"]] == [kept["id"]]


def test_delete_removes_the_schedule_and_its_beat_entry(owner_client: APIClient) -> None:
    schedule = _schedule(owner_client, _graph(owner_client))
    task = PeriodicTask.objects.get(agent_schedule__id=schedule["id"])
    assert owner_client.delete(f"/api/schedules/{schedule['id']}").status_code == 204
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
    assert owner_client.get(f"/api/schedules/{schedule['id']}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "0 9 * *"}, "cron"),
        ({"cron": "every day"}, "cron"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ],
)
def test_an_invalid_cron_or_time_zone_is_a_400(
    owner_client: APIClient, fields: dict, field: str
) -> None:
    graph = _graph(owner_client)
    body = {"name": "Bad", "cron": "0 9 * * *", "inputs": {"topic": "x"}, **fields}
    response = owner_client.post(f"/api/graphs/{graph['id']}/schedules", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["error_code"] == "VALIDATION_ERROR"
    assert field in error["details"]["fields"]
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(task="schedules.fire").exists()


def test_invalid_inputs_are_a_400_with_the_runs_node_errors(owner_client: APIClient) -> None:
    graph = _graph(owner_client)
    body = {"name": "No topic", "cron": "0 9 * * *", "inputs": {}}
    response = owner_client.post(f"/api/graphs/{graph['id']}/schedules", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["error_code"] == "GRAPH_VALIDATION_ERROR"
    assert error["details"]["node_errors"] == {"in": {"value": "the run input 'topic' is required"}}
    # The same answer as starting the run by hand.
    run = owner_client.post(f"/api/graphs/{graph['id']}/execute", {"inputs": {}}, format="json")
    assert run.json()["error"]["details"] == error["details"]
    assert not Schedule.objects.exists()


def test_a_missing_version_or_a_foreign_graph_is_a_404(
    owner_client: APIClient, other_user: User
) -> None:
    graph = _graph(owner_client)
    body = {"name": "x", "cron": "0 9 * * *", "inputs": {"topic": "x"}, "graph_version": 7}
    missing = owner_client.post(f"/api/graphs/{graph['id']}/schedules", body, format="json")
    assert missing.status_code == 404
    intruder = APIClient()
    intruder.force_authenticate(other_user)
    body.pop("graph_version")
    foreign = intruder.post(f"/api/graphs/{graph['id']}/schedules", body, format="json")
    assert foreign.status_code == 404
    assert not Schedule.objects.exists()


def test_lists_per_graph_and_per_user_and_scoping(
    owner_client: APIClient, other_user: User
) -> None:
    first, second = _graph(owner_client), _graph(owner_client)
    a = _schedule(owner_client, first, name="A")
    b = _schedule(owner_client, second, name="B", timezone="America/New_York")
    per_graph = owner_client.get(f"/api/graphs/{first['id']}/schedules").json()
    assert [s["id"] for s in per_graph["data"]] == [a["id"]]
    everything = owner_client.get("/api/schedules").json()
    assert {s["id"] for s in everything["data"]} == {a["id"], b["id"]}
    assert everything["total"] == 2
    listed_b = next(s for s in everything["data"] if s["id"] == b["id"])
    local = datetime.fromisoformat(listed_b["next_run_time"])
    assert (local.hour, local.minute) == (9, 0)
    assert local.utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
    intruder = APIClient()
    intruder.force_authenticate(other_user)
    assert intruder.get(f"/api/schedules/{a['id']}").status_code == 404
    assert (
        intruder.patch(
            f"/api/schedules/{a['id']}", {"is_enabled": False}, format="json"
        ).status_code
        == 404
    )
    assert intruder.delete(f"/api/schedules/{a['id']}").status_code == 404
    assert intruder.get("/api/schedules").json()["total"] == 0
    assert Schedule.objects.count() == 2


def test_patch_re_times_a_schedule(owner_client: APIClient) -> None:
    schedule = _schedule(owner_client, _graph(owner_client))
    response = owner_client.patch(
        f"/api/schedules/{schedule['id']}",
        {"cron": "30 18 * * 1-5", "timezone": "Europe/London"},
        format="json",
    )
    assert response.status_code == 200, response.content
    crontab = PeriodicTask.objects.get(agent_schedule__id=schedule["id"]).crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("30", "18", "1-5")
    assert str(crontab.timezone) == "Europe/London"
    local = datetime.fromisoformat(response.json()["next_run_time"])
    assert (local.hour, local.minute) == (18, 30)
    assert local.weekday() < 5
    bad = owner_client.patch(
        f"/api/schedules/{schedule['id']}", {"cron": "0 99 * * *"}, format="json"
    )
    assert bad.status_code == 400
