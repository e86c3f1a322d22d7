"""Runs you can trust, in a real browser (SPEC §17): a run with a failed node shows the amber
"completed with errors" badge and its first error on the run page and the runs list, never
"Error: none" or an unexplained "This run produced no outputs"; a stopped run is retried from the
run page's button; a schedule's page shows its next firings and its firing ledger."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect
from rest_framework.test import APIClient

from apps.executions.models import GraphExecution, NodeExecution
from apps.executions.services import graph_execution_start, graph_execution_stop
from apps.schedules import services
from apps.schedules.models import Schedule
from apps.users.models import User
from tests.dashboard.browser import checked_page, shot, sign_in
from tests.executions.test_outcome import BAD_TEMPLATE
from tests.factories import UserFactory
from tests.graphs.graphs import delay_graph, echo_graph
from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
AMBER = "rgb(181, 71, 8)"  # --warn


@pytest.fixture
def page(browser: Browser, asgi_server) -> Iterator[Page]:
    with checked_page(browser, asgi_server.url, viewport={"width": 1280, "height": 900}) as page:
        yield page


def test_a_run_with_a_failed_node_shows_an_amber_completed_with_errors(worker, page: Page) -> None:
    user: User = UserFactory()
    client = APIClient()
    client.force_authenticate(user)
    graph = client.post("/api/graphs", BAD_TEMPLATE, format="json").json()
    run = graph_execution_start(user=user, graph_id=graph["id"], inputs={"topic": "otters"})
    wait_for(
        lambda: GraphExecution.objects.filter(pk=run.pk, status="completed").exists(),
        timeout=60,
        what="the run to finish",
    )
    sign_in(page, user.email)

    page.goto(f"/runs/{run.pk}")
    badge = page.locator("#run-head .badge.status-completed-errors")
    expect(badge).to_have_text("completed with errors")
    expect(badge).to_have_css("color", AMBER)
    expect(page.locator("#run-head [data-node-errors]")).to_have_text("1 node failed")
    error = page.locator('[data-field="error"]')
    expect(error).to_contain_text("format template failed")
    expect(error).not_to_contain_text("none")
    expect(page.locator("#run-outputs")).to_contain_text("1 node failed")
    shot(page, "run-completed-with-errors")

    page.goto("/runs")
    row = page.locator(f'tr[data-run="{run.pk}"]')
    expect(row.locator(".badge.status-completed-errors")).to_have_text("completed with errors")
    expect(row.locator("[data-run-error]")).to_contain_text("format template failed")
    page.goto("/runs?errors=1")
    expect(page.locator("tbody tr")).to_have_count(1)
    shot(page, "runs-with-errors")


def test_a_stopped_run_is_retried_from_its_page(worker, page: Page) -> None:
    user: User = UserFactory()
    client = APIClient()
    client.force_authenticate(user)
    graph = client.post("/api/graphs", delay_graph(2), format="json").json()
    run = graph_execution_start(user=user, graph_id=graph["id"], inputs={"topic": "otters"})
    wait_for(
        lambda: NodeExecution.objects.filter(
            graph_execution=run, node__key="wait", status="running"
        ).exists(),
        timeout=30,
        what="the delay to start",
    )
    sign_in(page, user.email)
    page.goto(f"/runs/{run.pk}")
    expect(page.locator("#retry-button")).to_have_count(0)  # not while it runs
    graph_execution_stop(user=user, graph_exec_id=run.pk)
    expect(page.locator("#run-head [data-status]")).to_have_text("cancelled")
    page.locator("#retry-button").click()  # appears with the final event

    expect(page).not_to_have_url(f"/runs/{run.pk}")
    retried = GraphExecution.objects.get(retry_of=run)
    expect(page.locator('[data-field="retry-of"] a')).to_have_text(str(run.pk)[:8])
    expect(page.locator("#run-head [data-status]")).to_have_text("completed", timeout=30_000)
    expect(page.locator("#run-outputs")).to_contain_text("otters")
    expect(page.locator('.tl-row[data-node="in"] [data-reused]')).to_be_visible()
    expect(page.locator("#retry-button")).to_have_count(0)  # nothing failed: nothing to retry
    reused = NodeExecution.objects.get(graph_execution=retried, node__key="in")
    assert "reused_from" in reused.stats
    shot(page, "run-retried")


def test_the_schedule_page_shows_its_firing_ledger(page: Page) -> None:
    user: User = UserFactory()
    client = APIClient()
    client.force_authenticate(user)
    graph = client.post("/api/graphs", echo_graph(), format="json").json()
    body = {"name": "Hourly", "cron": "0 * * * *", "timezone": "UTC", "inputs": {"topic": "x"}}
    with time_machine.travel(datetime(2026, 6, 1, 8, 30, tzinfo=UTC), tick=False):
        created = client.post(f"/api/graphs/{graph['id']}/schedules", body, format="json")
    assert created.status_code == 201, created.content
    schedule = Schedule.objects.get(pk=created.json()["id"])
    nine = datetime(2026, 6, 1, 9, tzinfo=UTC)
    fired = services.schedule_fire(schedule_id=schedule.pk, task_id="a", sent_at=nine)
    services.schedule_fire(schedule_id=schedule.pk, task_id="b", sent_at=nine)
    services.schedule_fire(
        schedule_id=schedule.pk, task_id="c", sent_at=datetime(2026, 6, 1, 11, 30, tzinfo=UTC)
    )
    sign_in(page, user.email)
    page.goto(f"/agents/{graph['id']}")
    page.locator("#schedules a", has_text="Hourly").click()
    expect(page.locator("h1")).to_contain_text("Hourly")
    expect(page.locator("#next-firings li")).to_have_count(5)
    rows = page.locator("#firing-ledger tbody tr")
    expect(rows).to_have_count(4)
    outcomes = [rows.nth(i).get_attribute("data-outcome") for i in range(4)]
    assert outcomes == ["skipped", "skipped", "fired", "deduplicated"]
    expect(rows.nth(0)).to_contain_text("Missed while the scheduler was down")
    fired_row = page.locator('#firing-ledger tr[data-outcome="fired"]')
    expect(fired_row.locator("a.mono")).to_have_text(str(fired.graph_execution_id)[:8])
    expect(page.locator('#firing-ledger tr[data-outcome="deduplicated"]')).to_contain_text(
        "already delivered"
    )
    shot(page, "schedule-ledger")
    GraphExecution.objects.filter(user=user).update(status="cancelled")  # no worker here
