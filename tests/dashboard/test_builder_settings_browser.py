"""A node's run settings in the builder (SPEC §17), in a real browser: Attempts for a block with
a retry policy (Fetch Web Page) and none for one without (Fill Text Template), Timeout (s) for
both, each with the block's default as its placeholder; what is saved is checked through the
API (GET /api/graphs/{id}/versions/{n}), and clearing a field removes its key."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from apps.graphs.blocks.registry import all_blocks
from apps.users.models import User
from tests.dashboard.browser import checked_page, shot, sign_in
from tests.dashboard.test_builder_browser import BUNDLE, builder_ready, drag_block, node, save
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not BUNDLE.exists(), reason="the builder bundle is not built"),
]
RETRIABLE = "Fetch Web Page"
PLAIN = "Fill Text Template"


@pytest.fixture
def page(browser: Browser, asgi_server) -> Iterator[Page]:
    with checked_page(browser, asgi_server.url) as page:
        yield page


def settings_of(block: Locator) -> Locator:
    """The node's settings section, opened."""
    section = block.locator("details.node-settings")
    if section.get_attribute("open") is None:
        section.locator("summary").click()
    return section


def saved_metadata(page: Page, graph_id: str, version: int) -> dict[str, dict]:
    """Each saved node's metadata by block name, as the API returns the version."""
    response = page.request.get(f"/api/graphs/{graph_id}/versions/{version}")
    assert response.ok, response.text()
    blocks = {block.id: block.name for block in all_blocks()}
    return {blocks[n["block_id"]]: n["metadata"] for n in response.json()["nodes"]}


def test_attempts_and_timeout_are_saved_in_the_nodes_metadata(page: Page) -> None:
    user: User = UserFactory()
    sign_in(page, user.email)
    page.goto("/agents/new")
    builder_ready(page)
    drag_block(page, RETRIABLE, 60, 60)
    drag_block(page, PLAIN, 460, 60)
    fetch, template = node(page, RETRIABLE), node(page, PLAIN)

    plain = settings_of(template)
    expect(plain.locator('[data-setting="max_attempts"]')).to_have_count(0)
    expect(plain.get_by_label("Timeout (s)")).to_have_attribute("placeholder", "300")

    settings = settings_of(fetch)
    attempts = settings.get_by_label("Attempts")
    expect(attempts).to_have_attribute("placeholder", "3")
    attempts.fill("11")
    expect(settings.locator('[data-setting="max_attempts"] .field-error')).to_have_text(
        "Attempts: a whole number from 1 to 10. Not applied: the default (3) stays."
    )
    expect(attempts).to_have_attribute("aria-invalid", "true")
    attempts.fill("5")
    expect(settings.locator(".field-error")).to_have_count(0)
    settings.get_by_label("Timeout (s)").fill("45")
    expect(settings.locator("summary")).to_have_text("Settings: 5 attempts, 45 s timeout")
    shot(page, "builder-node-settings")

    page.fill("#agent-name", "Fetcher")
    save(page)
    expect(page.locator("#builder-banner")).to_contain_text("version 1")
    expect(page).to_have_url(re.compile(r"/agents/[0-9a-f-]{36}/edit$"))
    graph_id = page.url.split("/")[-2]
    saved = saved_metadata(page, graph_id, 1)
    assert saved[RETRIABLE]["max_attempts"] == 5
    assert saved[RETRIABLE]["timeout_seconds"] == 45
    assert "max_attempts" not in saved[PLAIN]
    assert "timeout_seconds" not in saved[PLAIN]

    # Read back from the saved version; an emptied field goes back to the block's default.
    page.reload()
    builder_ready(page)
    settings = settings_of(node(page, RETRIABLE))
    expect(settings.get_by_label("Attempts")).to_have_value("5")
    settings.get_by_label("Timeout (s)").fill("")
    save(page)
    expect(page.locator("#builder-banner")).to_contain_text("version 2")
    saved = saved_metadata(page, graph_id, 2)
    assert saved[RETRIABLE]["max_attempts"] == 5
    assert "timeout_seconds" not in saved[RETRIABLE]
