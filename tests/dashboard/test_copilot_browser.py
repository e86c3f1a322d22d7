"""The copilot (SPEC §18) in a real browser: a copilot chat builds the feed digest from a plain
request (the model is the scripted local OpenAI-compatible server), the user saves the proposal
and confirms its run on the chat page, the copilot explains the run, and "Open in builder"
shows the proposed graph on the canvas. Real ASGI server, real worker, local feed and SMTP."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.chat.models import CopilotProposal, CopilotRun
from apps.executions.models import GraphExecution
from apps.integrations.services import credential_create
from apps.users.models import User
from tests.chat.copilot_script import REQUEST, script_drafting
from tests.chat.test_chat import PLATFORM_KEY
from tests.dashboard.browser import checked_page, serious_violations, shot, sign_in
from tests.dashboard.test_builder_browser import BUNDLE, node
from tests.processes import LOOPBACK_TEST_PORTS, WorkerProcess, wait_for
from tests.providers.mail import PASSWORD, USERNAME

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not BUNDLE.exists(), reason="the builder bundle is not built"),
]


@pytest.fixture(scope="module")
def copilot_worker(django_db_setup, django_db_blocker, openai_server_session):
    env = {
        "OPENAI_API_KEY": PLATFORM_KEY,
        "OPENAI_BASE_URL": openai_server_session.url,
        "BLOCK_HTTP_ALLOWED_HOSTS": LOOPBACK_TEST_PORTS,
    }
    process = WorkerProcess(hostname="copilot-browser", env=env).start()
    yield process
    process.stop()


@pytest.fixture
def page(browser: Browser, asgi_server) -> Iterator[Page]:
    with checked_page(browser, asgi_server.url, timeout_ms=20_000) as page:
        yield page


def _send(page: Page, text: str) -> None:
    page.fill("#chat-input", text)
    page.click("#chat-send")


def test_a_copilot_chat_builds_saves_runs_explains_and_opens_the_agent_in_the_builder(
    copilot_worker,
    page: Page,
    settings,
    openai_server,
    provider_server,
    mail_servers,
    owner: User,
) -> None:
    settings.OPENAI_API_KEY = PLATFORM_KEY
    settings.OPENAI_BASE_URL = openai_server.url
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    smtp, _ = mail_servers
    sign_in(page, owner.email)

    # The user's mailbox; the copilot only ever sees its name.
    credential = credential_create(
        user=owner,
        provider="smtp",
        title="My mailbox",
        credential_type="user_password",
        username=USERNAME,
        password=PASSWORD,
        base_url=smtp.url,
    )
    page.goto("/chat")
    page.fill("#new-chat input[name=title]", "Morning digest")
    page.check("#new-chat input[name=copilot]")
    page.click("#new-chat button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Copilot")

    feed_url = f"{provider_server.url}/web/feed.xml"
    script_drafting(openai_server, feed_url, str(credential.pk))
    _send(page, REQUEST.format(url=feed_url))
    card = page.locator(".copilot-card[data-proposal]")
    expect(card).to_contain_text("Proposal: Morning feed digest")
    messages = page.locator("#chat-messages")
    expect(messages).to_contain_text("I drafted")
    # The steps are part of the chat: each call and its result.
    expect(messages.locator(".tool-call")).to_have_count(9)
    expect(messages.locator(".tool-result")).to_have_count(9)
    expect(messages.locator(".tool-result code", has_text="validate_graph")).to_have_count(1)
    assert serious_violations(page) == []
    shot(page, "copilot-proposal")

    # Saved only by the user's click.
    card.get_by_role("button", name="Save as a new agent").click()
    expect(page.locator(".copilot-card[data-proposal]")).to_contain_text("Saved: the agent")
    proposal = CopilotProposal.objects.get()
    agent_id = str(proposal.saved_graph_id)

    # The run asked for is started by the user's confirmation only.
    openai_server.script_tool_calls(("run_agent", {"agent_id": agent_id, "inputs": {}}))
    openai_server.script("Confirm the run below and I will check on it.")
    _send(page, "Run it now")
    run_card = page.locator(".copilot-card[data-run]")
    expect(run_card).to_contain_text("Run “Morning feed digest”")
    assert not GraphExecution.objects.exists()
    run_card.get_by_role("button", name="Run it").click()
    expect(page.locator(".copilot-card[data-run]")).to_contain_text("follow the run")
    run = CopilotRun.objects.get()
    wait_for(
        lambda: GraphExecution.objects.filter(
            pk=run.execution_id, status__in=["completed", "failed"]
        ).first(),
        timeout=60,
        what="the digest run to end",
    )
    assert GraphExecution.objects.get(pk=run.execution_id).status == "completed"
    assert len(smtp.messages) == 1

    openai_server.script_tool_calls(("get_run_results", {"run_id": str(run.pk)}))
    openai_server.script("It ran and emailed the summary to ada@example.org.")
    _send(page, "How did it go?")
    expect(messages).to_contain_text("It ran and emailed the summary")
    result = messages.locator(".tool-result", has_text="get_run_results")
    result.locator("summary").click()
    expect(result.locator("pre")).to_contain_text('"status": "completed"')
    shot(page, "copilot-run-explained")

    # "Open in builder": the proposed graph on the canvas.
    page.locator(".copilot-card[data-proposal]").get_by_role("link", name="Open in builder").click()
    expect(page).to_have_url(re.compile(rf"/agents/new\?proposal={proposal.pk}$"))
    expect(page.locator(".react-flow__node")).to_have_count(4)
    for block in ("Read RSS/Atom Feed", "Fill Text Template", "AI Text Summarizer"):
        expect(node(page, block)).to_be_visible()
    expect(node(page, "Send Email (SMTP)")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(3)
    expect(page.locator("#agent-name")).to_have_value("Morning feed digest")
    shot(page, "copilot-builder")
