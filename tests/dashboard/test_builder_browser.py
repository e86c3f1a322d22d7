"""The builder (SPEC §14) in a real browser: Debian's Chromium driven by Playwright against the
real ASGI server (HTTP + /ws) and a real Celery worker, as a new user. Screenshots go to
test-artifacts/. Needs the bundle (`make install` builds it); without it these tests skip."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from apps.graphs.models import Graph
from apps.integrations.services import credential_create
from apps.users.models import User
from tests.dashboard.browser import checked_page, shot, sign_in
from tests.dashboard.helpers import make_graph
from tests.factories import PASSWORD
from tests.graphs.graphs import delay_graph, echo_graph
from tests.processes import ROOT, WorkerProcess

BUNDLE = ROOT / "static" / "builder" / "builder.js"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not BUNDLE.exists(),
        reason="the builder bundle static/builder/builder.js is not built: run `make install` "
        "(needs Node.js 20 and npm)",
    ),
]

LIVE_TIMEOUT_MS = 60_000  # the worker may still be starting on a loaded machine


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker) -> Iterator[WorkerProcess]:
    process = WorkerProcess(hostname="builder").start()
    yield process
    process.stop()


@pytest.fixture
def page(browser: Browser, asgi_server) -> Iterator[Page]:
    with checked_page(browser, asgi_server.url, accept_downloads=True) as page:
        page.context.grant_permissions(
            ["clipboard-read", "clipboard-write"], origin=asgi_server.url
        )
        yield page


def sign_up(page: Page, email: str) -> User:
    page.goto("/signup")
    page.fill("input[name=email]", email)
    page.fill("input[name=name]", email.split("@")[0].title())
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/agents$"))
    return User.objects.get(email=email)


def node(page: Page, block_name: str, index: int = 0) -> Locator:
    return page.locator(f'.bn[data-block="{block_name}"]').nth(index)


def drag_block(page: Page, name: str, x: int, y: int) -> None:
    """Search the palette and drag the block onto the canvas at (x, y) of the pane."""
    page.fill(".palette input[type=search]", name)
    page.locator(".palette-entry", has_text=name).first.drag_to(
        page.locator(".react-flow__pane"), target_position={"x": x, "y": y}
    )


def connect(page: Page, source: Locator, pin_out: str, sink: Locator, pin_in: str) -> None:
    """Drag with the mouse from an output pin's handle to an input pin's handle."""
    start = source.locator(f'.pin-row.out[data-pin="{pin_out}"] .react-flow__handle')
    end = sink.locator(f'.pin-row.in[data-pin="{pin_in}"] .react-flow__handle')
    a, b = start.bounding_box(), end.bounding_box()
    assert a
    assert b
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()


def save(page: Page) -> None:
    page.click("#save")


def builder_ready(page: Page) -> None:
    expect(page.locator("body[data-builder-ready=true]")).to_have_count(1)


def test_it_builds_saves_runs_versions_and_deletes_an_agent(worker, page: Page) -> None:
    sign_up(page, "nova@example.com")
    page.click("#empty-new-agent")
    expect(page).to_have_url(re.compile(r"/agents/new$"))
    builder_ready(page)
    expect(page.locator(".empty-canvas")).to_contain_text("Start with a block")
    shot(page, "empty")

    drag_block(page, "Agent Input", 40, 60)
    expect(page.locator(".empty-canvas")).to_have_count(0)
    drag_block(page, "Fill Text Template", 400, 60)
    drag_block(page, "Agent Output", 760, 60)
    expect(page.locator(".bn")).to_have_count(3)
    expect(page.locator("#unsaved")).to_be_visible()
    leaving_is_guarded = page.evaluate(
        "() => { const event = new Event('beforeunload', {cancelable: true});"
        " window.dispatchEvent(event); return event.defaultPrevented; }"
    )
    assert leaving_is_guarded, "leaving with unsaved changes must ask first"

    node(page, "Agent Input").locator('[data-field="name"] input').fill("topic")
    template = node(page, "Fill Text Template")
    template.get_by_label("New key for values").fill("topic")
    template.get_by_label("New key for values").press("Enter")
    expect(template.locator('.pin-row.in[data-pin="values_#_topic"]')).to_be_visible()
    connect(page, node(page, "Agent Input"), "result", template, "values_#_topic")
    connect(page, template, "output", node(page, "Agent Output"), "value")
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    expect(template.locator('[data-pin="values_#_topic"] .linked-from')).to_contain_text(
        "Agent Input.result"
    )
    node(page, "Agent Output").locator('[data-field="name"] input').fill("greeting")
    page.fill("#agent-name", "Greeter")
    shot(page, "built")

    # The template is left empty: saved, but the node is marked with what a run would refuse.
    save(page)
    expect(page.locator("#builder-banner")).to_contain_text("cannot run yet")
    expect(template.locator('[data-field="format"] .field-error')).to_contain_text("required")
    expect(page).to_have_url(re.compile(r"/agents/[0-9a-f-]{36}/edit$"))
    shot(page, "validation-error")

    template.locator('[data-field="format"] textarea').fill("Hello {{ topic }}!")
    expect(template.locator('[data-field="format"] .field-error')).to_have_count(0)
    save(page)
    expect(page.locator("#builder-banner")).to_contain_text("Saved as version 2.")
    expect(page.locator("#unsaved")).to_have_count(0)

    page.click("#run")
    page.locator(".run-form textarea").fill("otters")
    page.click(".run-form button[type=submit]")
    for block in ("Agent Input", "Fill Text Template", "Agent Output"):
        expect(node(page, block)).to_have_class(
            re.compile(r"status-completed"), timeout=LIVE_TIMEOUT_MS
        )
    expect(page.locator("#run-status")).to_have_text("completed", timeout=LIVE_TIMEOUT_MS)
    expect(node(page, "Agent Output").locator(".run-output")).to_contain_text("Hello otters!")
    expect(page.locator("#run-outputs")).to_contain_text("Hello otters!")
    # During a run, clicking a node shows its executions.
    node(page, "Fill Text Template").locator(".bn-block").click()
    expect(page.locator("#node-executions")).to_contain_text("Hello otters!")
    shot(page, "run-completed")

    # A change saved as v3, then v2 restored.
    template.locator('[data-field="format"] textarea').fill("Bye {{ topic }}!")
    save(page)
    expect(page.locator("#builder-banner")).to_contain_text("Saved as version 3.")
    page.get_by_role("button", name="Versions", exact=True).click()
    versions = page.locator("#versions")
    expect(versions.locator("tbody tr")).to_have_count(3)
    versions.get_by_label("Compare from version").select_option("2")
    versions.get_by_label("Compare to version").select_option("3")
    versions.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator("#version-diff")).to_contain_text("Nodes changed (1)")
    shot(page, "versions")
    versions.get_by_role("button", name="Restore v2", exact=True).click()
    builder_ready(page)
    expect(page.locator(".version-tag")).to_contain_text("v2 (active)")
    expect(template_format(page)).to_have_value("Hello {{ topic }}!")
    graph = Graph.objects.get()
    assert graph.versions.get(is_active=True).version == 2

    # Copy and paste two nodes, then undo the paste.
    node(page, "Agent Input").locator(".bn-block").click()
    node(page, "Fill Text Template").locator(".bn-block").click(modifiers=["Control"])
    expect(page.locator(".react-flow__node.selected")).to_have_count(2)
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(page.locator(".bn")).to_have_count(5)
    expect(page.locator(".react-flow__edge")).to_have_count(3)
    shot(page, "pasted")
    page.keyboard.press("Control+z")
    expect(page.locator(".bn")).to_have_count(3)
    page.keyboard.press("Control+Shift+z")
    expect(page.locator(".bn")).to_have_count(5)
    page.keyboard.press("Control+z")
    expect(page.locator(".bn")).to_have_count(3)

    # Export, then import the file into a new agent's editor.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export", exact=True).click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["name"] == "Greeter"
    assert len(exported["nodes"]) == 3
    page.goto("/agents/new")
    builder_ready(page)
    page.set_input_files("#import-file", str(download.value.path()))
    expect(page.locator(".bn")).to_have_count(3)
    expect(page.locator("#agent-name")).to_have_value("Greeter")
    page.fill("#agent-name", "Greeter copy")
    save(page)
    expect(page.locator("#builder-banner")).to_contain_text("Saved as version 1.")
    assert Graph.objects.count() == 2

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete agent", exact=True).click()
    expect(page).to_have_url(re.compile(r"/agents$"))
    assert Graph.objects.count() == 1
    expect(page.locator("tbody")).not_to_contain_text("Greeter copy")


def template_format(page: Page) -> Locator:
    return node(page, "Fill Text Template").locator('[data-field="format"] textarea')


def test_it_refuses_a_link_between_incompatible_pins_with_the_reason(page: Page) -> None:
    sign_up(page, "lin@example.com")
    page.goto("/agents/new")
    builder_ready(page)
    drag_block(page, "Fill Text Template", 40, 60)
    drag_block(page, "Calculator", 420, 60)
    connect(page, node(page, "Fill Text Template"), "output", node(page, "Calculator"), "a")
    expect(page.locator("#builder-banner")).to_contain_text(
        "Link refused: type mismatch: Fill Text Template.output gives string, a takes "
        "integer/number"
    )
    expect(page.locator(".react-flow__edge")).to_have_count(0)
    # The other way round is fine (a number renders into text), and the refusal goes away.
    connect(page, node(page, "Calculator"), "result", node(page, "Fill Text Template"), "format")
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    expect(page.locator("#builder-banner")).to_have_count(0)
    # An enum the block keeps in $defs is a select; its default is offered.
    operation = node(page, "Calculator").locator('[data-field="operation"] select')
    expect(operation.locator("option")).to_contain_text(["(default)", "add", "subtract"])
    shot(page, "link-refused")


def test_an_ai_agents_tools_pin_makes_a_node_its_tool(page: Page) -> None:
    owner = sign_up(page, "tim@example.com")
    page.goto("/agents/new")
    builder_ready(page)
    drag_block(page, "AI Agent", 40, 60)
    drag_block(page, "Calculator", 420, 60)
    agent, calculator = node(page, "AI Agent"), node(page, "Calculator")
    # Only the tool end takes the tools pin, and the tool end takes nothing else.
    connect(page, agent, "tools", calculator, "a")
    expect(page.locator("#builder-banner")).to_contain_text(
        "only an AI Agent's tools pin links to a node's tool end"
    )
    start = agent.locator('.pin-row.out[data-pin="tools"] .react-flow__handle')
    end = calculator.locator(".react-flow__handle.tool-handle")
    a, b = start.bounding_box(), end.bounding_box()
    assert a
    assert b
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    agent.locator('[data-field="prompt"] textarea, [data-field="prompt"] input').first.fill(
        "What is 6 times 7?"
    )
    page.fill("#agent-name", "Calculating agent")
    save(page)
    expect(page.locator("#builder-banner")).to_contain_text("Saved")
    graph = Graph.objects.get(user=owner)
    version = graph.versions.get(is_active=True)
    assert [(link.source_name, link.sink_name) for link in version.links.all()] == [
        ("tools", "tool")
    ]
    shot(page, "builder-tool-link")


def test_the_credential_picker_lists_only_the_users_credentials_of_the_provider(
    page: Page, other_user: User
) -> None:
    nova = sign_up(page, "cred@example.com")
    credential_create(user=nova, provider="openai", title="My OpenAI key", api_key="sk-mine")
    credential_create(user=other_user, provider="openai", title="Bob's key", api_key="sk-bob")
    page.goto("/agents/new")
    builder_ready(page)
    drag_block(page, "AI Text Generator", 60, 40)
    picker = node(page, "AI Text Generator").get_by_label("Credential for OpenAI-compatible API")
    expect(picker.locator("option")).to_have_text(["— choose —", "My OpenAI key"])
    expect(node(page, "AI Text Generator").get_by_role("link", name="Add new")).to_have_attribute(
        "href", "/settings/credentials"
    )
    model = node(page, "AI Text Generator").locator('[data-field="model"] input')
    expect(model).to_have_attribute("placeholder", "gpt-4o-mini")
    expect(node(page, "AI Text Generator").locator("datalist option").first).to_have_attribute(
        "value", "gpt-4o-mini"
    )
    drag_block(page, "Fill Text Template", 500, 40)
    expect(node(page, "Fill Text Template").locator(".credentials")).to_have_count(0)
    shot(page, "credentials")


def tab_to(page: Page, condition: str, presses: int = 80) -> None:
    """Press Tab until the focused element satisfies `condition` (JavaScript)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(condition):
            return
    raise AssertionError(f"not reachable by Tab: {condition}")


def test_keyboard_only_adds_a_block_and_saves(page: Page) -> None:
    sign_up(page, "keys@example.com")
    page.goto("/agents/new")
    builder_ready(page)
    tab_to(page, "document.activeElement.type === 'search'")
    page.keyboard.type("print")
    page.keyboard.press("Tab")
    expect(page.locator(".palette-entry:focus")).to_contain_text("Print")
    page.keyboard.press("Enter")
    expect(page.locator(".bn")).to_have_count(1)
    expect(page.locator(".react-flow__node:focus")).to_have_count(1)  # focus moved to the node
    # A second block, linked into the first from its Links panel, all by keyboard.
    tab_to(page, "document.activeElement.type === 'search'")
    page.keyboard.press("Control+a")
    page.keyboard.type("agent input")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".bn")).to_have_count(2)
    tab_to(
        page,
        "document.activeElement.textContent === 'Links'"
        " && !!document.activeElement.closest('.bn[data-block=\"Print\"]')",
    )
    page.keyboard.press("Enter")
    expect(page.locator("#links-panel")).to_be_visible()
    tab_to(page, "document.activeElement.getAttribute('aria-label') === 'Link text from'")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    expect(node(page, "Print").locator('[data-pin="text"] .linked-from')).to_contain_text(
        "Agent Input.result"
    )
    page.keyboard.press("Control+s")  # unnamed: the name field takes the focus
    expect(page.locator("#builder-banner")).to_contain_text("Name the agent")
    expect(page.locator("#agent-name")).to_be_focused()
    page.keyboard.type("Typed")
    page.keyboard.press("Control+s")
    expect(page.locator("#builder-banner")).to_contain_text("Saved as version 1")
    saved = Graph.objects.get().versions.get()
    assert saved.name == "Typed"
    assert saved.links.count() == 1
    shot(page, "keyboard")


def test_bad_input_is_refused_and_never_lost(page: Page, tmp_path: Path) -> None:
    sign_up(page, "bad@example.com")
    page.goto("/agents/new")
    builder_ready(page)
    page.evaluate("navigator.clipboard.writeText('not a graph at all')")
    page.locator(".react-flow__pane").click()
    page.keyboard.press("Control+v")
    expect(page.locator("#builder-banner")).to_contain_text(
        "This is not a graph: the text is not JSON."
    )

    foreign = {
        "name": "From elsewhere",
        "nodes": [
            {"id": "x", "block_id": "not-installed-here", "input_default": {"kept": [1, 2]}},
            {"id": "p", "block_id": "f3b1c1b2-4c4f-4f1f-b2b3-4c5d6e7f8a9b"},
        ],
        "links": [],
    }
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(foreign))
    page.set_input_files("#import-file", str(path))
    unknown = page.locator('.bn[data-block="unknown"]')
    expect(unknown).to_have_count(2)
    expect(unknown.first).to_contain_text("not-installed-here")
    expect(unknown.first.locator(".unknown-data")).to_contain_text('"kept"')
    save(page)
    expect(page.locator("#builder-banner")).to_contain_text("Not saved: the graph has errors")
    expect(unknown.first.locator(".node-errors")).to_contain_text("unknown block")
    assert Graph.objects.count() == 0
    with page.expect_download() as download:  # the refused graph can still be exported
        page.get_by_role("button", name="Export", exact=True).click()
    kept = json.loads(Path(download.value.path()).read_text())
    assert kept["nodes"][0]["input_default"] == {"kept": [1, 2]}
    shot(page, "refused")


def test_it_stops_a_run_tests_a_node_and_keeps_versions_straight(
    worker, page: Page, tmp_path: Path
) -> None:
    sign_up(page, "stop@example.com")
    page.goto("/agents/new")
    builder_ready(page)
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(delay_graph(30, name="Slow")))
    page.set_input_files("#import-file", str(path))
    expect(page.locator(".bn")).to_have_count(3)
    expect(page.locator("#agent-name")).to_have_value("Slow")

    # One undo step brings back a deleted node and its links.
    node(page, "Delay").locator(".bn-block").click()
    page.keyboard.press("Delete")
    expect(page.locator(".bn")).to_have_count(2)
    expect(page.locator(".react-flow__edge")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(page.locator(".bn")).to_have_count(3)
    expect(page.locator(".react-flow__edge")).to_have_count(2)

    # A link made static, a sticky note, and "Test this node".
    page.locator(".react-flow__edge").first.click()
    page.get_by_label("Static link").check()
    expect(page.locator(".react-flow__edge.static")).to_have_count(1)
    page.fill(".palette input[type=search]", "note")
    page.locator(".palette-entry", has_text="Note").first.click()
    page.locator(".sticky-note textarea").fill("Waits, then answers.")
    page.fill(".palette input[type=search]", "fill text")
    page.locator(".palette-entry", has_text="Fill Text Template").first.click()
    template = node(page, "Fill Text Template")
    template.locator('[data-field="format"] textarea').fill("Tested {{ 40 + 2 }}")
    template.get_by_role("button", name="Test this node", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#test-result")).to_contain_text("Tested 42")
    template.locator(".bn-block").click()
    page.keyboard.press("Delete")
    expect(page.locator(".bn")).to_have_count(3)
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    save(page)
    expect(page.locator("#builder-banner")).to_contain_text("Saved as version 1.")
    graph = Graph.objects.get()
    saved = graph.versions.get()
    assert saved.links.filter(is_static=True).count() == 1
    assert saved.nodes.filter(input_default__text="Waits, then answers.").count() == 1

    page.click("#run")
    page.locator(".run-form textarea").fill("otters")
    page.click(".run-form button[type=submit]")
    expect(node(page, "Delay")).to_have_class(
        re.compile(r"status-running"), timeout=LIVE_TIMEOUT_MS
    )
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.locator("#run-status")).to_have_text("cancelled", timeout=LIVE_TIMEOUT_MS)
    shot(page, "stopped")

    # Two tabs save the same agent: both are kept, the second is told about the first.
    other = page.context.new_page()
    other.goto(f"/agents/{graph.id}/edit")
    builder_ready(other)
    other.fill("#agent-description", "Saved in the other tab")
    other.click("#save")
    expect(other.locator("#builder-banner")).to_contain_text("Saved as version 2.")
    other.close()
    page.fill("#agent-description", "Saved in this tab")
    save(page)
    expect(page.locator("#builder-banner")).to_contain_text("Saved as version 3.")
    expect(page.locator("#builder-banner")).to_contain_text("A newer version was saved elsewhere")

    # An older version opens read-only.
    page.goto(f"/agents/{graph.id}/edit?version=2")
    builder_ready(page)
    expect(page.locator(".version-tag")).to_contain_text("v2 · read-only")
    expect(page.locator("#save")).to_have_count(0)
    expect(page.locator("#agent-description")).to_be_disabled()
    expect(page.locator("#agent-description")).to_have_value("Saved in the other tab")
    expect(page.get_by_role("button", name="Restore this version", exact=True)).to_be_visible()


def test_a_phone_shows_the_agent_read_only(browser: Browser, asgi_server, owner: User) -> None:
    version = make_graph(owner, echo_graph("Pocket"))
    context = browser.new_context(
        base_url=asgi_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = context.new_page()
    sign_in(phone, owner.email)
    phone.goto(f"/agents/{version.graph_id}/edit")
    builder_ready(phone)
    expect(phone.locator(".phone-note")).to_contain_text("read-only")
    expect(phone.locator(".bn")).to_have_count(3)
    expect(phone.locator("#save")).to_have_count(0)
    expect(phone.locator(".palette")).to_be_hidden()
    name_field = phone.locator('.bn[data-block="Agent Input"] [data-field="name"] input')
    expect(name_field).to_be_disabled()
    shot(phone, "phone")
    context.close()


def test_a_tablet_edits_the_agent(browser: Browser, asgi_server, owner: User) -> None:
    version = make_graph(owner, echo_graph("Slate"))
    context = browser.new_context(
        base_url=asgi_server.url, viewport={"width": 820, "height": 1180}, has_touch=True
    )
    tablet = context.new_page()
    sign_in(tablet, owner.email)
    tablet.goto(f"/agents/{version.graph_id}/edit")
    builder_ready(tablet)
    expect(tablet.locator(".phone-note")).to_have_count(0)
    tablet.fill(".palette input[type=search]", "note")
    tablet.locator(".palette-entry", has_text="Note").first.tap()
    expect(tablet.locator(".sticky-note")).to_have_count(1)
    tablet.locator("#save").tap()
    expect(tablet.locator("#builder-banner")).to_contain_text("Saved as version 2.")
    shot(tablet, "tablet")
    context.close()
