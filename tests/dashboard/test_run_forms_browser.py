"""The dashboard's run and schedule forms of SPEC §17 in a real browser. The budget cap: a run
started from the agent page with a budget below its first node's price ends `failed` with
BUDGET_EXCEEDED on the run page, charging nothing, and a budget the form refuses is named on its
field (a real Celery worker whose blocks are priced; the web side prices them alike, for the
estimate the page shows first). The catch-up policy: chosen in the schedule form, shown and
changed on the schedule's page, which stays accessible (axe-core)."""

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.credits.models import CreditTransaction
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.blocks.library.basic import StoreValueBlock
from apps.schedules.models import Schedule
from apps.users.models import User
from tests.dashboard.browser import checked_page, serious_violations, shot, sign_in
from tests.dashboard.helpers import make_graph
from tests.executions.test_credits import PRICE, _chain
from tests.factories import UserFactory
from tests.graphs.graphs import echo_graph
from tests.processes import WorkerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PRICES = {StoreValueBlock.id: [{"amount": PRICE, "unit": "RUN", "filter": {}}]}
LIVE_TIMEOUT_MS = 60_000  # the worker may still be starting on a loaded machine


@pytest.fixture(scope="module")
def priced_worker(django_db_setup, django_db_blocker) -> Iterator[WorkerProcess]:
    process = WorkerProcess(
        hostname="budget-browser", env={"BLOCK_COST_OVERRIDES": json.dumps(PRICES)}
    ).start()
    yield process
    process.stop()


@pytest.fixture
def page(browser: Browser, asgi_server, settings) -> Iterator[Page]:
    settings.BLOCK_COST_OVERRIDES = PRICES  # the in-process web server's estimate
    with checked_page(browser, asgi_server.url, viewport={"width": 1280, "height": 900}) as page:
        yield page


def test_a_budget_below_the_first_nodes_price_fails_the_run_with_budget_exceeded(
    priced_worker, page: Page
) -> None:
    user: User = UserFactory()
    version = make_graph(user, _chain(3))
    sign_in(page, user.email)
    page.goto(f"/agents/{version.graph_id}")
    expect(page.locator("#run-estimate")).to_contain_text(f"at least {3 * PRICE} credits")
    budget = page.get_by_label("Budget (credits)")
    expect(budget).to_have_attribute("name", "max_credits")

    budget.fill("0")
    page.click("button[name=run]")
    expect(page.locator("#run .error")).to_contain_text("A budget is at least 1 credit")
    assert not GraphExecution.objects.filter(user=user).exists()
    shot(page, "budget-refused")

    page.get_by_label("Budget (credits)").fill(str(PRICE - 1))
    page.click("button[name=run]")
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    run = GraphExecution.objects.get(user=user)
    assert run.max_credits == PRICE - 1
    expect(page.locator("#run-head [data-status]")).to_have_text("failed", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator('[data-field="error"]')).to_contain_text("BUDGET_EXCEEDED")
    expect(page.locator('[data-field="cost"]')).to_have_text("0")
    shot(page, "budget-exceeded")
    statuses = list(
        NodeExecution.objects.filter(graph_execution=run).values_list("node__key", "status")
    )
    assert statuses == [("n0", "failed")]
    assert not CreditTransaction.objects.filter(graph_exec_id=run.pk).exists()


def test_the_catch_up_policy_is_chosen_in_the_schedule_form_and_changed_on_its_page(
    page: Page,
) -> None:
    user: User = UserFactory()
    version = make_graph(user, echo_graph("Otter echo"))
    sign_in(page, user.email)
    page.goto(f"/agents/{version.graph_id}")
    page.get_by_label("topic").fill("otters")
    new = page.locator("#schedule-new")
    new.locator("summary").click()
    new.get_by_label("Name", exact=True).fill("Mornings")
    catch_up = new.get_by_label("Missed firings")
    expect(catch_up).to_have_value("skip")
    catch_up.select_option(label="Run once when the scheduler is back")
    page.click("button[name=save_schedule]")
    expect(page).to_have_url(re.compile(r"#schedules$"))
    schedule = Schedule.objects.get(user=user)
    assert schedule.catch_up == "run_once"

    page.locator("#schedules a", has_text="Mornings").click()
    expect(page.locator('[data-field="catch-up"]')).to_have_text(
        "run once when the scheduler is back"
    )
    form = page.locator("#catch-up")
    policy = form.get_by_label("Firings missed while the scheduler was down")
    expect(policy).to_have_value("run_once")
    assert serious_violations(page) == []
    policy.select_option("skip")
    form.get_by_role("button", name="Save").click()
    expect(page.locator('[data-field="catch-up"]')).to_have_text("skipped")
    expect(page.locator("body")).to_contain_text("missed firings are skipped")
    shot(page, "schedule-catch-up")
    schedule.refresh_from_db()
    assert schedule.catch_up == "skip"
