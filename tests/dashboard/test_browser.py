"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the real
ASGI server (HTTP + /ws) and a real Celery worker. Screenshots go to test-artifacts/.

Select these alone with `-m browser`, or leave them out with `-m "not browser"`."""

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.credits.selectors import credit_balance_get
from apps.credits.services import credit_apply
from apps.executions.models import GraphExecution
from apps.executions.services import graph_execution_start
from apps.graphs.blocks.library.basic import PrintBlock
from apps.users.models import User
from tests.dashboard.browser import checked_page, shot, sign_in, wait_in_page
from tests.dashboard.helpers import listing_url, publish
from tests.factories import PASSWORD, UserFactory
from tests.graphs.graphs import delay_graph, echo_graph
from tests.processes import LOOPBACK_TEST_PORTS, WorkerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PRINT_PRICE = 3
PRICES = {PrintBlock.id: [{"amount": PRINT_PRICE, "unit": "RUN", "filter": {}}]}
LIVE_TIMEOUT_MS = 60_000  # the worker may still be starting on a loaded machine


@pytest.fixture(scope="module")
def priced_worker(django_db_setup, django_db_blocker) -> Iterator[WorkerProcess]:
    process = WorkerProcess(
        hostname="dashboard", env={"BLOCK_COST_OVERRIDES": json.dumps(PRICES)}
    ).start()
    yield process
    process.stop()


@pytest.fixture
def page(browser: Browser, asgi_server, settings) -> Iterator[Page]:
    settings.BLOCK_COST_OVERRIDES = PRICES
    with checked_page(browser, asgi_server.url, viewport={"width": 1280, "height": 900}) as page:
        yield page


def _import(page: Page, tmp_path: Path, document: dict) -> None:
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(document))
    page.goto("/agents")
    page.set_input_files("#id_file", str(path))
    page.click("#import-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/agents/[0-9a-f-]{36}$"))


@contextlib.contextmanager
def _run_state_on_failure() -> Iterator[None]:
    """When the page does not show what was expected, say what the database holds."""
    try:
        yield
    except AssertionError as exc:
        runs = [
            (run.status, run.attempts, list(run.node_executions.values_list("status", flat=True)))
            for run in GraphExecution.objects.all()
        ]
        raise AssertionError(f"{exc}\nruns in the database: {runs}") from None


def _run_from_form(page: Page, topic: str) -> None:
    page.fill("textarea[name=input__topic]", topic)
    page.click("button[name=run]")
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))


def test_sign_up_import_run_and_watch_every_node_complete_live(
    priced_worker, page: Page, tmp_path: Path
) -> None:
    page.goto("/signup")
    shot(page, "sign-up")
    page.fill("input[name=email]", "dora@example.com")
    page.fill("input[name=name]", "Dora")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/agents$"))
    expect(page.locator("text=No agents yet")).to_be_visible()
    shot(page, "agents-empty")
    dora = User.objects.get(email="dora@example.com")
    balance_before = credit_balance_get(user_id=dora.pk)
    assert balance_before > 0

    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    page.set_input_files("#id_file", str(bad))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-errors")).to_contain_text("not valid JSON")

    _import(page, tmp_path, echo_graph("Otter echo"))
    expect(page.locator(".dag .node")).to_have_count(3)
    expect(page.locator(".dag")).to_contain_text("Print")
    expect(page.locator("text=costs at least 3 credits")).to_be_visible()
    shot(page, "agent")

    _run_from_form(page, "otters")
    page.evaluate("window.__sameDocument = true")
    nodes = page.locator(".dag .node")
    expect(nodes).to_have_count(3)
    with _run_state_on_failure():
        for index in range(3):
            expect(nodes.nth(index)).to_have_class(
                re.compile(r"status-completed"), timeout=LIVE_TIMEOUT_MS
            )
    expect(page.locator("h1 [data-status]")).to_have_text("completed")
    expect(page.locator("#run-outputs")).to_contain_text("otters")
    expect(page.locator('[data-field="cost"]')).to_have_text(str(PRINT_PRICE))
    expect(page.locator("#stop-form")).to_be_hidden()
    assert page.evaluate("window.__sameDocument") is True, "the run page reloaded"
    page.locator(".dag .node", has_text="Print").click()
    print_row = page.locator(".tl-row", has_text="Print")
    expect(print_row).to_have_attribute("open", "")
    expect(print_row.locator(".tl-body")).to_contain_text("otters")
    shot(page, "run-completed")

    page.goto("/credits")
    expect(page.locator("#balance")).to_contain_text(str(balance_before - PRINT_PRICE))
    expect(page.locator(".chart polyline")).to_have_count(1)
    shot(page, "credits")
    page.goto("/runs")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody [data-status]")).to_have_text("completed")
    shot(page, "runs")
    page.goto("/settings/api-keys")
    page.fill("input[name=name]", "Laptop")
    page.check("input[value=READ_GRAPH]")
    page.click("form.key-form button[type=submit]")
    expect(page.locator("#new-key-value")).to_contain_text("agpt_")
    shot(page, "api-keys")
    page.reload()
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.locator("tbody")).to_contain_text("Laptop")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/agents")
    expect(page.locator("text=Otter echo")).to_be_visible()
    shot(page, "agents-phone")


def test_on_a_phone_the_menu_folds_and_sign_up_guesses_the_browsers_zone(
    browser: Browser, asgi_server
) -> None:
    context = browser.new_context(
        base_url=asgi_server.url,
        viewport={"width": 390, "height": 844},
        timezone_id="Europe/Berlin",
    )
    page = context.new_page()
    page.goto("/signup")
    expect(page.locator("select[name=timezone]")).to_have_value("Europe/Berlin")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    # One row: brand and the Menu button, the navigation behind it.
    assert page.locator("header.topbar").bounding_box()["height"] < 70
    expect(page.locator("#site-menu").get_by_role("link", name="Sign in")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#site-menu").get_by_role("link", name="Sign in")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#site-menu").get_by_role("link", name="Sign in")).to_be_hidden()
    shot(page, "sign-up-phone")
    context.close()


def test_a_long_run_is_stopped_with_the_button(priced_worker, page: Page, tmp_path: Path) -> None:
    UserFactory(email="erin@example.com", name="Erin")
    sign_in(page, "erin@example.com")
    _import(page, tmp_path, delay_graph(60, name="Sleeper"))
    _run_from_form(page, "zzz")
    page.evaluate("window.__sameDocument = true")
    with _run_state_on_failure():
        expect(page.locator(".dag .node", has_text="Delay")).to_have_class(
            re.compile(r"status-running"), timeout=LIVE_TIMEOUT_MS
        )
    shot(page, "run-running")
    page.click("#stop-button")
    expect(page.locator("h1 [data-status]")).to_have_text("cancelled", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#stop-form")).to_be_hidden()
    assert page.evaluate("window.__sameDocument") is True
    assert GraphExecution.objects.get().status == "cancelled"


def test_the_run_list_follows_a_run_and_the_socket_reconnects(
    priced_worker, page: Page, tmp_path: Path
) -> None:
    UserFactory(email="fay@example.com", name="Fay")
    sockets = []

    def relay(socket) -> None:
        sockets.append(socket)
        socket.connect_to_server()

    page.route_web_socket(re.compile(r"/ws$"), relay)
    sign_in(page, "fay@example.com")
    _import(page, tmp_path, delay_graph(3, name="Short nap"))
    _run_from_form(page, "nap")
    run_url = page.url
    page.goto("/runs")
    row = page.locator("tbody tr").first
    assert row.get_attribute("data-live") is not None, "the run ended before the list loaded"
    expect(row.locator("[data-status]")).to_have_text("completed", timeout=LIVE_TIMEOUT_MS)
    assert row.locator("[data-cost]").inner_text() == "0"

    # A run started elsewhere (the API, a schedule) joins the open list, and is followed too.
    first = GraphExecution.objects.get()
    graph_execution_start(user=first.user, graph_id=first.graph_id, inputs={"topic": "api"})
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2, timeout=LIVE_TIMEOUT_MS)
    expect(rows.first.locator("[data-status]")).to_have_text("completed", timeout=LIVE_TIMEOUT_MS)
    # The agent's page lists it among its recent runs the same way.
    page.goto(f"/agents/{first.graph_id}")
    expect(page.locator("#run-list tbody tr")).to_have_count(2)
    graph_execution_start(user=first.user, graph_id=first.graph_id, inputs={"topic": "api 2"})
    expect(page.locator("#run-list tbody tr")).to_have_count(3, timeout=LIVE_TIMEOUT_MS)

    opened = len(sockets)
    page.goto(run_url)
    wait_in_page(page, lambda: len(sockets) > opened)
    expect(page.locator("#live-banner")).to_be_hidden()
    sockets[-1].close(code=1012, reason="server restart")
    expect(page.locator("#live-banner")).to_be_visible()
    expect(page.locator("#live-banner")).to_contain_text("Reconnecting")
    shot(page, "reconnecting")
    expect(page.locator("#live-banner")).to_be_hidden(timeout=LIVE_TIMEOUT_MS)


def test_the_run_page_resubscribes_with_its_last_seq_after_a_reconnect(
    priced_worker, page: Page, tmp_path: Path
) -> None:
    """SPEC §17: the live run page remembers the last event's `seq` and resubscribes with it;
    the server replays what it missed, so it ends on the run's last event without a reload."""
    UserFactory(email="ivy@example.com", name="Ivy")
    sockets, sent = [], []

    def relay(socket) -> None:
        server = socket.connect_to_server()

        def to_server(message) -> None:
            sent.append(json.loads(message))
            server.send(message)

        socket.on_message(to_server)
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/ws$"), relay)
    sign_in(page, "ivy@example.com")
    _import(page, tmp_path, delay_graph(4, name="Long nap"))
    _run_from_form(page, "nap")
    _socket_open(page)
    run = GraphExecution.objects.get()
    assert run.status != "completed", "the run ended before the socket was cut"
    page.evaluate("window.__sameDocument = true")
    sockets[-1].close(code=1012, reason="server restart")
    expect(page.locator("#live-banner")).to_be_visible()
    expect(page.locator("h1 [data-status]")).to_have_text("completed", timeout=LIVE_TIMEOUT_MS)
    resubscribed = [
        message["data"]
        for message in sent
        if message["method"] == "subscribe_graph_execution" and "since_seq" in message["data"]
    ]
    assert len(resubscribed) >= 2  # the first subscription and the one after the reconnect
    assert {data["graph_exec_id"] for data in resubscribed} == {str(run.pk)}
    assert all(isinstance(data["since_seq"], int) for data in resubscribed)
    assert resubscribed[-1]["since_seq"] >= resubscribed[0]["since_seq"] > 0
    run.refresh_from_db()
    expect(page.locator("body")).to_have_attribute(
        "data-last-seq", str(run.event_seq), timeout=LIVE_TIMEOUT_MS
    )
    assert page.evaluate("window.__sameDocument") is True


def test_staff_change_a_user_in_the_styled_admin(page: Page) -> None:
    UserFactory(email="charlie@example.com", name="Charlie", is_staff=True, is_superuser=True)
    UserFactory(email="gus@example.com", name="Gus")
    sign_in(page, "charlie@example.com")
    page.click(".account-menu summary")
    page.click("a[href='/admin/']")
    expect(page.locator("#site-name")).to_contain_text("AutoGPT Platform admin")
    shot(page, "admin")
    page.goto("/admin/users/user/")
    page.click("text=gus@example.com")
    page.fill("input[name=name]", "Gus the Great")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert User.objects.get(email="gus@example.com").name == "Gus the Great"
    page.click("#user-tools a[href='/agents']")
    expect(page).to_have_url(re.compile(r"/agents$"))


def _socket_open(page: Page) -> None:
    expect(page.locator("body[data-live=open]")).to_have_count(1, timeout=LIVE_TIMEOUT_MS)


def test_submit_to_the_store_approve_in_the_dashboard_and_the_badge_updates_live(
    priced_worker, browser: Browser, asgi_server, page: Page, tmp_path: Path
) -> None:
    UserFactory(email="hana@example.com", name="Hana")
    UserFactory(email="ivan@example.com", name="Ivan", is_staff=True, is_superuser=True)
    sign_in(page, "hana@example.com")
    _import(page, tmp_path, echo_graph("Otter echo"))
    page.click("#submit-to-store summary")
    page.fill("#submit-form input[name=sub_heading]", "Says what it hears about otters")
    page.fill("#submit-form input[name=categories]", "fun, otters")
    shot(page, "agent-submit")
    page.click("#submit-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/store/submissions$"))
    expect(page.locator("#submissions")).to_contain_text("pending")
    expect(page.locator("#submissions")).to_contain_text("not reviewed yet")
    badge = page.locator('[data-nav-badge="notifications"]')
    expect(badge).to_be_hidden()
    _socket_open(page)
    page.evaluate("window.__sameDocument = true")
    inbox = page.context.new_page()
    inbox_errors: list[str] = []
    inbox.on("pageerror", lambda error: inbox_errors.append(str(error)))
    inbox.goto("/notifications")
    expect(inbox.locator("#notifications")).to_contain_text("No notifications yet")
    _socket_open(inbox)

    staff = browser.new_context(base_url=asgi_server.url, viewport={"width": 1280, "height": 900})
    staff.set_default_timeout(15_000)
    admin = staff.new_page()
    sign_in(admin, "ivan@example.com")
    admin.goto("/store")
    expect(admin.locator("#review-queue")).to_have_text("Review queue (1)")
    admin.click("#review-queue")
    expect(admin).to_have_url(re.compile(r"/store/review$"))
    admin.click("#review-list a:has-text('Otter echo')")
    expect(admin.locator("#agent .dag .node")).to_have_count(3)
    admin.fill("textarea[name=comments]", "Lovely otters, approved.")
    admin.fill("textarea[name=internal_comments]", "Checked by Ivan.")
    shot(admin, "store-review")
    admin.click("button[name=decision][value=approve]")
    expect(admin.locator(".flash")).to_contain_text("approved")
    expect(admin.locator("text=Nothing to review")).to_be_visible()
    staff.close()

    # The approval reaches the creator's open page over /ws: badge and toast, no reload.
    expect(badge).to_have_text("1", timeout=LIVE_TIMEOUT_MS)
    expect(badge).to_be_visible()
    expect(page.locator(".toast")).to_contain_text("Otter echo was approved for the store")
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "notification-live")
    # An open notifications page lists it without a reload.
    expect(inbox.locator("#notifications .unread")).to_contain_text("Otter echo was approved")
    inbox.close()
    assert not inbox_errors, f"JavaScript errors: {inbox_errors}"

    page.reload()
    expect(page.locator("#submissions")).to_contain_text("approved")
    expect(page.locator("#submissions")).to_contain_text("Lovely otters, approved.")
    expect(page.locator("#submissions")).not_to_contain_text("Checked by Ivan")
    shot(page, "submissions")
    page.goto("/store")
    tile = page.locator(".tile", has_text="Otter echo")
    expect(tile).to_contain_text("Says what it hears about otters")
    shot(page, "store")
    tile.click()
    expect(page.locator("h1")).to_contain_text("Otter echo")
    expect(page.locator("#my-review")).to_contain_text("Creators cannot review their own agents")
    shot(page, "store-listing")
    page.goto("/notifications")
    expect(page.locator("#notifications .unread")).to_have_count(1)
    shot(page, "notifications")
    page.click("#read-all")
    expect(page.locator("#notifications .unread")).to_have_count(0)
    expect(page.locator('[data-nav-badge="notifications"]')).to_be_hidden()


def test_library_run_schedule_with_the_cron_helper_and_a_streamed_chat_reply(
    priced_worker, page: Page, settings, openai_server
) -> None:
    creator = UserFactory(email="jo@example.com", name="Jo")
    staff = UserFactory(email="kim@example.com", name="Kim", is_staff=True)
    UserFactory(email="lee@example.com", name="Lee")
    listed = publish(creator, staff, "Otter echo", sub_heading="Echoes otters")
    settings.OPENAI_API_KEY = "sk-platform-browser-0123456789"
    settings.OPENAI_BASE_URL = openai_server.url
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]

    sign_in(page, "lee@example.com")
    page.goto(listing_url(listed))
    page.fill("#review-form textarea[name=comments]", "Does what it says.")
    page.select_option("#review-form select[name=score]", "4")
    page.click("#review-form button[type=submit]")
    expect(page.locator("#reviews")).to_contain_text("Does what it says.")
    page.click("#add-to-library")
    expect(page).to_have_url(re.compile(r"/library/[0-9a-f-]{36}$"))
    shot(page, "library-agent")
    _run_from_form(page, "otters from the library")
    with _run_state_on_failure():
        expect(page.locator("h1 [data-status]")).to_have_text("completed", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#run-outputs")).to_contain_text("otters from the library")
    page.goto("/library")
    page.click("#library button[value=favorite]")
    expect(page.locator("#library")).to_contain_text("★")
    shot(page, "library")

    # A fork is the user's own agent, with a schedules card and its cron helper.
    page.goto("/library")
    page.click("#library a.strong")
    page.click("#fork")
    expect(page).to_have_url(re.compile(r"/agents/[0-9a-f-]{36}$"))
    page.fill("textarea[name=input__topic]", "scheduled otters")
    page.click("#schedule-new summary")
    page.fill("input[name=schedule_name]", "Weekday mornings")
    page.select_option("select[name=timezone]", "Asia/Tokyo")
    page.fill("input[name=cron]", "30 7 * * 1-5")
    helper = page.locator("#cron-next li")
    expect(helper).to_have_count(5)
    expect(helper.first).to_contain_text("07:30 JST")
    page.fill("input[name=cron]", "30 7 * *")
    expect(page.locator("#cron-error")).to_contain_text("five fields")
    page.fill("input[name=cron]", "30 7 * * 1-5")
    expect(page.locator("#cron-error")).to_be_hidden()
    page.click("button[name=save_schedule]")
    schedules = page.locator("#schedules")
    expect(schedules).to_contain_text("Weekday mornings")
    expect(schedules).to_contain_text("30 7 * * 1-5")
    expect(schedules).to_contain_text("07:30 JST")
    shot(page, "agent-schedules")
    schedules.locator("button", has_text="Pause").click()
    expect(page.locator("#schedules")).to_contain_text("paused")

    # Chat: the reply streams into the page while the provider still holds the rest back.
    page.goto("/chat")
    page.fill("#new-chat input[name=title]", "Otter facts")
    page.select_option("#new-chat select[name=model]", "gpt-4o")
    page.click("#new-chat button[type=submit]")
    expect(page.locator("#chat-price")).to_contain_text("3 credits a reply")
    openai_server.hold_stream()
    page.fill("#chat-input", "REPLY: Otters hold hands while sleeping")
    page.click("#chat-send")
    reply = page.locator(".bubble.assistant").last
    expect(reply).to_have_class(re.compile("status-streaming"))
    expect(reply.locator(".bubble-text")).to_have_text("Otters")
    openai_server.release_stream()
    expect(reply).to_have_class(re.compile("status-completed"))
    expect(reply.locator(".bubble-text")).to_have_text("Otters hold hands while sleeping")
    expect(reply).to_contain_text("3 credits")
    shot(page, "chat")
    page.reload()
    expect(page.locator(".bubble.assistant")).to_contain_text("Otters hold hands while sleeping")
    # The same chat open in another tab follows a reply sent from this one, over /ws.
    other = page.context.new_page()
    other_errors: list[str] = []
    other.on("pageerror", lambda error: other_errors.append(str(error)))
    other.goto(page.url)
    _socket_open(other)
    openai_server.hold_stream()
    page.fill("#chat-input", "REPLY: Otters float on their backs")
    page.click("#chat-send")
    expect(other.locator(".bubble.assistant.status-streaming")).to_have_text("Otters")
    openai_server.release_stream()
    expect(other.locator(".bubble.user").last).to_have_text("REPLY: Otters float on their backs")
    expect(other.locator(".bubble.assistant").last).to_contain_text("Otters float on their backs")
    expect(other.locator(".bubble.assistant").last).to_contain_text("3 credits")
    expect(page.locator(".bubble.assistant").last).to_contain_text("3 credits")
    expect(page.locator(".bubble")).to_have_count(4)
    other.close()
    assert not other_errors, f"JavaScript errors: {other_errors}"
    # An empty purse: the API's 402 is shown on the page and nothing is added to the chat.
    lee = User.objects.get(email="lee@example.com")
    balance = credit_balance_get(user_id=lee.pk)
    credit_apply(user_id=lee.pk, amount=-balance, type="USAGE", transaction_key="browser:drain")
    page.fill("#chat-input", "Another one")
    page.click("#chat-send")
    expect(page.locator("#chat-error")).to_contain_text("Insufficient credits")
    expect(page.locator(".bubble")).to_have_count(4)
    expect(page.locator("#chat-input")).to_have_value("Another one")

    page.goto("/settings/credentials")
    page.fill("#credential-form input[name=title]", "My OpenAI")
    page.fill("#credential-form input[name=api_key]", "sk-lee-secret-0123456789")
    page.click("#credential-form button[type=submit]")
    expect(page.locator("#credentials")).to_contain_text("My OpenAI")
    assert "sk-lee-secret" not in page.content()
    shot(page, "credentials")
    page.goto("/settings/profile")
    page.fill("#preferences-form input[name=max_emails_per_day]", "1")
    page.click("#preferences-form button[name=preferences]")
    expect(page.locator(".flash")).to_contain_text("Preferences saved.")
    shot(page, "profile")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/store")
    expect(page.locator(".tile", has_text="Otter echo")).to_be_visible()
    shot(page, "store-phone")
    page.goto("/chat")
    page.click(".chat-link")
    expect(page.locator(".bubble.assistant").first).to_be_visible()
    shot(page, "chat-phone")
