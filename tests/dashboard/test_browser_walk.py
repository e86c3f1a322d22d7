"""Every main page as a person sees it, at 1280x800 and on a 390x844 phone: screenshots under
test-artifacts/, no request for the page's own assets failing, no JavaScript error, and no
serious or critical accessibility violation found by axe-core. The charts draw."""

import datetime
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.executions.models import GraphExecution
from apps.graphs.models import Preset
from apps.store import services as store_services
from apps.users.services import api_key_create
from tests.dashboard.browser import DESKTOP, PHONE, serious_violations, shot, sign_in
from tests.dashboard.helpers import make_graph, make_queued_run
from tests.factories import UserFactory
from tests.graphs.graphs import echo_graph
from tests.processes import ROOT
from tests.webhooks.helpers import webhook_graph

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHARTS_BUILT = (ROOT / "static" / "charts" / "charts.js").exists()


@pytest.fixture
def world() -> dict:
    """Alice with an agent that ran, a webhook agent, a preset, a key and a pending submission;
    Charlie, staff."""
    alice = UserFactory(email="alice@example.com", name="Alice")
    UserFactory(email="charlie@example.com", name="Charlie", is_staff=True)
    agent = make_graph(alice, echo_graph("Otter echo"))
    hook = make_graph(alice, webhook_graph("On push"))
    run = make_queued_run(alice, agent)
    now = datetime.datetime.now(datetime.UTC)
    GraphExecution.objects.filter(pk=run.pk).update(
        status="completed",
        started_at=now - datetime.timedelta(seconds=2),
        ended_at=now,
        outputs={"answer": ["otters"]},
        stats={"cost": 3},
    )
    Preset.objects.create(
        user=alice, graph_id=agent.graph_id, graph_version=1, name="Otters", inputs={"topic": "o"}
    )
    api_key_create(user=alice, name="CI", permissions=["READ_GRAPH"])
    submission = store_services.submission_create(
        user=alice, graph_id=agent.graph_id, name="Otter echo", sub_heading="Echoes otters"
    )
    return {"agent": agent, "hook": hook, "run": run, "submission": submission}


@pytest.fixture
def pages(browser: Browser, asgi_server) -> Iterator[dict[str, Page]]:
    made = {}
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(base_url=asgi_server.url, viewport=viewport)
        context.set_default_timeout(15_000)
        made[name] = context.new_page()
    yield made
    for page in made.values():
        page.context.close()


def _walk(page: Page, size: str, paths: dict[str, str]) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and r.url.startswith(page.context.base_url if hasattr(page.context, "base_url") else "")
            and problems.append(f"{r.status} for {r.url}")
        ),
    )
    for name, path in paths.items():
        response = page.goto(path)
        if response is None or response.status != 200:
            problems.append(f"{path} answered {response and response.status}")
            continue
        page.wait_for_load_state("networkidle")
        shot(page, f"walk-{name}-{size}")
        problems += [f"{path} ({size}): {line}" for line in serious_violations(page)]
    return problems


def test_every_main_page_at_two_sizes_is_whole_and_accessible(
    world: dict, pages: dict[str, Page]
) -> None:
    agent, run = world["agent"], world["run"]
    owner_paths = {
        "agents": "/agents",
        "agent": f"/agents/{agent.graph_id}",
        "triggers": f"/agents/{world['hook'].graph_id}/triggers",
        "runs": "/runs",
        "run": f"/runs/{run.pk}",
        "blocks": "/blocks",
        "store": "/store",
        "creator-profile": "/store/profile",
        "library": "/library",
        "chat": "/chat",
        "credits": "/credits",
        "notifications": "/notifications",
        "profile": "/settings/profile",
        "credentials": "/settings/credentials",
        "files": "/settings/files",
        "api-keys": "/settings/api-keys",
    }
    staff_paths = {
        "platform": "/platform",
        "review-queue": "/store/review",
        "review": f"/store/review/{world['submission'].pk}",
    }
    problems = []
    for size, page in pages.items():
        for name, path in (("sign-in", "/login"), ("sign-up", "/signup")):
            page.goto(path)
            shot(page, f"walk-{name}-{size}")
            problems += [f"{path} ({size}): {line}" for line in serious_violations(page)]
        sign_in(page, "alice@example.com")
        problems += _walk(page, size, owner_paths)
        page.context.clear_cookies()
        sign_in(page, "charlie@example.com")
        problems += _walk(page, size, staff_paths)
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(not CHARTS_BUILT, reason="static/charts is not built (make install)")
def test_the_charts_draw_from_the_pages_json(world: dict, pages: dict[str, Page]) -> None:
    page = pages["desktop"]
    sign_in(page, "alice@example.com")
    page.goto(f"/agents/{world['agent'].graph_id}")
    expect(page.locator("#analytics .chart-box[data-drawn=true]")).to_have_count(2)
    expect(page.locator("#analytics")).to_contain_text("Runs")
    shot(page, "agent-analytics")
    page.context.clear_cookies()
    sign_in(page, "charlie@example.com")
    page.goto("/platform")
    expect(page.locator(".chart-box[data-drawn=true]")).to_have_count(3)
    shot(page, "platform")


def test_a_file_uploads_with_progress_and_a_run_is_shared_publicly(
    world: dict, pages: dict[str, Page], settings, tmp_path
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "uploads": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "uploads")},
        },
    }
    page = pages["desktop"]
    sign_in(page, "alice@example.com")
    page.goto("/settings/files")
    notes = tmp_path / "notes.csv"
    notes.write_text("otter,river\n" * 20_000)
    page.set_input_files("#upload-form input[type=file]", str(notes))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#files")).to_contain_text("notes.csv")
    expect(page.locator(".flash")).to_contain_text("Uploaded “notes.csv”")
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ")
    page.set_input_files("#upload-form input[type=file]", str(bad))
    page.click("#upload-form button[type=submit]")
    expect(page.locator(".upload-error")).to_contain_text("not accepted")
    shot(page, "files")

    page.goto(f"/runs/{world['run'].pk}")
    page.click("#share-form button")
    public = page.locator("#share-url").inner_text()
    page.context.clear_cookies()
    page.goto(public)
    expect(page.locator("h1")).to_contain_text("Otter echo")
    expect(page.locator("main")).to_contain_text("otters")
    assert not serious_violations(page)
    shot(page, "shared-run")
