"""A human review decided from the run page in a real browser (SPEC §15): the card appears live
when the run starts waiting, the reviewer edits the data and approves, and the run completes
with the edited data."""

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient

from apps.executions.models import GraphExecution, Review
from apps.executions.services import graph_execution_start
from apps.users.models import User
from tests.dashboard.browser import shot, sign_in
from tests.dashboard.test_browser import page as page  # a fixture
from tests.executions.test_reviews import review_graph
from tests.processes import WorkerProcess, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def review_browser_worker(django_db_setup, django_db_blocker) -> Iterator[WorkerProcess]:
    process = WorkerProcess(hostname="review-browser").start()
    yield process
    process.stop()


def test_it_approves_a_review_with_edited_data_from_the_run_page(
    review_browser_worker, page: Page, owner: User
) -> None:
    client = APIClient()
    client.force_authenticate(owner)
    graph_id = client.post("/api/graphs", review_graph(), format="json").json()["id"]
    sign_in(page, owner.email)
    run = graph_execution_start(user=owner, graph_id=graph_id, inputs={"draft": {"text": "hi"}})
    page.goto(f"/runs/{run.id}")
    card = page.locator("#run-reviews .review")
    expect(card).to_be_visible(timeout=60_000)  # appears live once the run waits
    expect(page.locator("#run-head [data-status]")).to_have_text("review")
    expect(card).to_contain_text("Send this?")
    shot(page, "review-waiting")
    textarea = card.locator("textarea[name=data]")
    assert json.loads(textarea.input_value()) == {"text": "hi"}
    textarea.fill(json.dumps({"text": "edited in browser"}))
    card.locator("input[name=message]").fill("Looks good now")
    card.locator("button[value=approve]").click()
    expect(page).to_have_url(re.compile(rf"/runs/{run.id}$"))
    expect(page.locator("#run-head [data-status]")).to_have_text("completed", timeout=60_000)
    expect(page.locator("#run-reviews .review")).to_have_count(0)
    expect(page.locator("#run-outputs")).to_contain_text("edited in browser")
    shot(page, "review-approved")
    wait_for(
        lambda: GraphExecution.objects.get(pk=run.id).status == "completed",
        timeout=30,
        what="the run to complete",
    )
    assert GraphExecution.objects.get(pk=run.id).outputs["approved"] == [
        {"text": "edited in browser"}
    ]
    review = Review.objects.get(graph_execution_id=run.id)
    assert (review.status, review.decision_message) == ("approved", "Looks good now")
