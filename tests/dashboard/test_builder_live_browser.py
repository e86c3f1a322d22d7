"""The builder's live view of a run (SPEC §17) in a real browser: when its socket drops mid-run,
it resubscribes with `since_seq` = the last event's `seq` it applied, and the server's replay
brings the canvas to the run's end without a reload. A real worker runs the run; the socket is
cut by Playwright's WebSocket route, which records what the page sends."""

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import APIResponse, Browser, Page, Route, WebSocketRoute, expect

from apps.executions.models import GraphExecution
from apps.graphs.models import GraphVersion
from apps.users.models import User
from tests.dashboard.browser import checked_page, shot, sign_in, wait_in_page
from tests.dashboard.helpers import make_graph
from tests.dashboard.test_builder_browser import BUNDLE, builder_ready, node
from tests.factories import UserFactory
from tests.graphs.graphs import delay_graph

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not BUNDLE.exists(), reason="the builder bundle is not built"),
]
LIVE_TIMEOUT_MS = 60_000  # the worker may still be starting on a loaded machine


@pytest.fixture
def page(browser: Browser, asgi_server) -> Iterator[Page]:
    with checked_page(browser, asgi_server.url) as page:
        yield page


def run_in_the_builder(page: Page, user: User, version: GraphVersion, topic: str) -> None:
    """Sign in, open the agent in the builder and start a run with `topic` as its input."""
    sign_in(page, user.email)
    page.goto(f"/agents/{version.graph_id}/edit")
    builder_ready(page)
    page.click("#run")
    page.locator(".run-form textarea").fill(topic)
    page.click(".run-form button[type=submit]")


def test_the_builders_run_view_resubscribes_with_its_last_seq_after_a_reconnect(
    worker, page: Page
) -> None:
    user: User = UserFactory()
    # Two naps: the second one's start is an event the open socket receives (the first run
    # after a worker start can emit its first events before the builder has subscribed, and a
    # builder that saw none catches up by REST, resubscribing without `since_seq`).
    payload = delay_graph(1.5, name="Long nap")
    payload["nodes"].insert(2, {**payload["nodes"][1], "id": "nap"})
    payload["nodes"][2]["input_default"] = {"seconds": 4}
    payload["links"][1] = {**payload["links"][1], "sink_id": "nap", "sink_name": "data"}
    payload["links"].append({**payload["links"][1], "source_id": "nap", "sink_id": "out",
                             "sink_name": "value"})  # fmt: skip
    version = make_graph(user, payload)
    sockets: list[tuple[WebSocketRoute, list[dict]]] = []
    seen: list[int] = []  # the seqs the page was sent

    def relay(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        sent: list[dict] = []

        def to_server(message: str | bytes) -> None:
            sent.append(json.loads(message))
            server.send(message)

        def to_page(message: str | bytes) -> None:
            if isinstance(json.loads(message).get("seq"), int):
                seen.append(json.loads(message)["seq"])
            socket.send(message)

        socket.on_message(to_server)
        server.on_message(to_page)
        sockets.append((socket, sent))

    def run_sockets() -> list[tuple[int, list[dict]]]:
        """The sockets that subscribed to a run (the page's own socket subscribes to none)."""
        return [
            (index, sent)
            for index, (_, sent) in enumerate(sockets)
            if any(m["method"] == "subscribe_graph_execution" for m in sent)
        ]

    page.route_web_socket(re.compile(r"/ws$"), relay)
    run_in_the_builder(page, user, version, topic="nap")
    expect(node(page, "Delay", 1)).to_have_class(
        re.compile(r"status-running"), timeout=LIVE_TIMEOUT_MS
    )
    wait_in_page(page, lambda: bool(seen))  # an event reached the page on the run's socket
    run = GraphExecution.objects.get(user=user)
    assert run.status != "completed", "the run ended before the socket was cut"
    [(first, sent)] = run_sockets()
    assert sent[0]["data"] == {"graph_exec_id": str(run.pk)}  # no event seen before it

    sockets[first][0].close(code=1012, reason="server restart")
    expect(page.locator("#run-status")).to_have_text("completed", timeout=LIVE_TIMEOUT_MS)
    for block, index in (("Agent Input", 0), ("Delay", 0), ("Delay", 1), ("Agent Output", 0)):
        expect(node(page, block, index)).to_have_class(re.compile(r"status-completed"))
    expect(page.locator("#run-outputs")).to_contain_text("nap")
    shot(page, "builder-run-after-reconnect")

    later = [sent for index, sent in run_sockets() if index > first]
    assert later, "the builder did not subscribe again after the reconnect"
    again = next(m["data"] for m in later[0] if m["method"] == "subscribe_graph_execution")
    run.refresh_from_db()
    assert again["graph_exec_id"] == str(run.pk)
    assert isinstance(again["since_seq"], int)
    assert 0 < again["since_seq"] < run.event_seq  # it had events, and missed the last ones


def test_a_catch_up_read_before_the_runs_end_does_not_undo_it(worker, page: Page) -> None:
    """The builder catches up by REST once subscribed; that answer, read while the run ran,
    can arrive after the event that ended it (seen in CI: the nodes completed, the run's status
    stayed "running"). Here it is held back until the page has shown the end."""
    user: User = UserFactory()
    version = make_graph(user, delay_graph(1.5, name="Nap"))
    held: list[tuple[Route, APIResponse]] = []

    def hold(route: Route) -> None:
        held.append((route, route.fetch()))  # read now, answered later

    page.route(re.compile(r"/api/executions/[0-9a-f-]{36}$"), hold)
    run_in_the_builder(page, user, version, topic="nap")
    wait_in_page(page, lambda: bool(held), seconds=30)
    route, answer = held[0]
    assert answer.json()["status"] in ("queued", "running")  # read before the end
    expect(page.locator("#run-status")).to_have_text("completed", timeout=LIVE_TIMEOUT_MS)

    with page.expect_request_finished(lambda request: request.url == route.request.url):
        route.fulfill(response=answer)
    page.wait_for_timeout(500)  # what the page does with the answer
    expect(page.locator("#run-status")).to_have_text("completed", timeout=1)
    for block in ("Agent Input", "Delay", "Agent Output"):
        expect(node(page, block)).to_have_class(re.compile(r"status-completed"), timeout=1)
    expect(page.locator("#run-outputs")).to_contain_text("nap")
