"""The copilot (SPEC §18): a chat whose assistant calls the platform's tools to draft, validate,
propose, save (on the user's click) and run (on the user's confirmation) an agent, then explain
the run. The model is the local OpenAI-compatible server, scripted; the feed and the mail
server are the local fakes; the run is done by a real worker."""

import json

import httpx
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from websockets.sync.client import connect

from apps.chat.models import ChatMessage, ChatSession, CopilotProposal, CopilotRun
from apps.credits.models import CreditTransaction
from apps.credits.selectors import credit_balance_get
from apps.credits.services import credit_apply
from apps.executions.models import GraphExecution
from apps.graphs.blocks.llm import MODELS_BY_ID
from apps.graphs.models import Graph
from apps.integrations import services as integrations
from apps.users.models import User
from tests.chat.copilot_script import (
    EMAIL,
    FEED,
    REQUEST,
    SUMMARY,
    feed_graph,
    last_tool_message,
    script_drafting,
    sent_tools,
    tool_results,
)
from tests.chat.test_chat import PLATFORM_KEY, _events, _post
from tests.graphs.graphs import echo_graph, link, node
from tests.processes import LOOPBACK_TEST_PORTS, WorkerProcess, wait_for
from tests.providers.mail import PASSWORD, USERNAME

pytestmark = pytest.mark.django_db(transaction=True)
PRICE = MODELS_BY_ID["gpt-4o-mini"].cost


@pytest.fixture(scope="module")
def copilot_worker(django_db_setup, django_db_blocker, openai_server_session):
    env = {
        "OPENAI_API_KEY": PLATFORM_KEY,
        "OPENAI_BASE_URL": openai_server_session.url,
        "BLOCK_HTTP_ALLOWED_HOSTS": LOOPBACK_TEST_PORTS,
    }
    process = WorkerProcess(hostname="copilot", env=env).start()
    yield process
    process.stop()


@pytest.fixture
def platform_llm(settings, openai_server):
    settings.OPENAI_API_KEY = PLATFORM_KEY
    settings.OPENAI_BASE_URL = openai_server.url
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    return openai_server


def _copilot(client: APIClient) -> ChatSession:
    response = client.post(
        "/api/chat/sessions", {"title": "Agents", "copilot": True}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["copilot"] is True
    return ChatSession.objects.get(pk=response.json()["id"])


def _smtp_credential(owner: User, smtp) -> str:
    credential = integrations.credential_create(
        user=owner,
        provider="smtp",
        title="My mailbox",
        credential_type="user_password",
        username=USERNAME,
        password=PASSWORD,
        base_url=smtp.url,
    )
    return str(credential.pk)


def test_it_drafts_repairs_proposes_saves_runs_and_explains_the_feed_digest(
    copilot_worker,
    platform_llm,
    provider_server,
    mail_servers,
    owner: User,
    owner_client: APIClient,
) -> None:
    smtp, _ = mail_servers
    session = _copilot(owner_client)
    credential_id = _smtp_credential(owner, smtp)
    feed_url = f"{provider_server.url}/web/feed.xml"

    # 1. The request: search, schemas, credentials, a refused draft, the repaired proposal.
    script_drafting(platform_llm, feed_url, credential_id)
    events = _post(owner_client, session, REQUEST.format(url=feed_url))
    names = [name for name, _ in events]
    assert names[0] == "message_start"
    assert names[-1] == "done"
    assert names.count("tool_call") == names.count("tool_result") == 9
    results = tool_results(events)
    found = {block["id"] for r in results["search_blocks"] for block in r["blocks"]}
    assert {FEED, SUMMARY, EMAIL} <= found
    schemas = {r["id"]: r for r in results["get_block_schema"]}
    assert "url" in schemas[FEED]["inputs"]
    assert "entries" in schemas[FEED]["outputs"]
    assert results["list_credentials"] == [
        {"credentials": [{"id": credential_id, "title": "My mailbox", "provider": "smtp",
                          "type": "user_password"}]}
    ]  # fmt: skip
    refused = results["validate_graph"][0]
    assert refused["valid"] is False
    assert refused["node_errors"] == {
        "feed": {"items": "Read RSS/Atom Feed has no output pin named 'items'"}
    }
    # The refusal went back to the model, which repaired the draft in the next call.
    assert len(platform_llm.requests) == 5
    assert last_tool_message(platform_llm.requests[3])["node_errors"] == refused["node_errors"]
    proposed = results["propose_graph"][0]
    assert proposed["proposed"] is True
    proposal = CopilotProposal.objects.get(pk=proposed["proposal_id"])
    assert proposed["builder_url"] == f"/agents/new?proposal={proposal.pk}"
    assert events[-1][1]["content"].startswith("I drafted")
    # Proposed, not saved: no agent exists until the user's click.
    assert not Graph.objects.filter(user=owner).exists()

    # Every model call of the reply is an assistant message, charged with the platform's key.
    assistants = list(session.messages.filter(role="assistant"))
    assert len(assistants) == 5
    assert [bool(m.tool_calls) for m in assistants] == [True, True, True, True, False]
    charges = CreditTransaction.objects.filter(
        user=owner, type="USAGE", transaction_key__in=[f"chat:{m.pk}" for m in assistants]
    )
    assert sorted(c.amount for c in charges) == [-PRICE] * 5
    assert session.messages.filter(role="tool").count() == 9
    # Each model call offered the tools; no secret ever reached the model.
    assert "propose_graph" in sent_tools(platform_llm.requests[0])
    assert PASSWORD not in json.dumps([r["body"] for r in platform_llm.requests])

    # 2. "Open in builder": the builder reads the proposal; "Save" makes the agent.
    opened = owner_client.get(f"/api/chat/proposals/{proposal.pk}").json()
    assert {n["block_id"] for n in opened["nodes"]} >= {FEED, SUMMARY, EMAIL}
    saved = owner_client.post(f"/api/chat/proposals/{proposal.pk}/save", {}, format="json")
    assert saved.status_code == 201, saved.content
    agent_id = saved.json()["saved_graph_id"]
    assert Graph.objects.get(pk=agent_id).versions.get().nodes.count() == 4
    again = owner_client.post(f"/api/chat/proposals/{proposal.pk}/save", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["error_code"] == "CONFLICT"

    # 3. "Run it now": the copilot asks; nothing runs before the user confirms.
    platform_llm.script_tool_calls(("run_agent", {"agent_id": agent_id, "inputs": {}}))
    platform_llm.script("It is ready to run: confirm it in the chat.")
    events = _post(owner_client, session, "Run it now.")
    asked = tool_results(events)["run_agent"][0]
    assert asked["status"] == "awaiting_confirmation"
    assert not GraphExecution.objects.filter(user=owner).exists()
    confirmed = owner_client.post(f"/api/chat/runs/{asked['run_request_id']}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    execution_id = confirmed.json()["execution_id"]
    wait_for(
        lambda: GraphExecution.objects.filter(
            pk=execution_id, status__in=["completed", "failed"]
        ).first(),
        timeout=60,
        what="the digest run to end",
    )
    # The real run read the feed, summarised it with the model and sent the email.
    [(recipients, email)] = smtp.messages
    assert recipients == ["ada@example.org"]
    assert email["Subject"] == "Your morning feed"
    assert "Second otter" in email.get_content()

    # 4. "How did it go?": the copilot reads the run's results and explains them.
    platform_llm.script_tool_calls(("get_run_results", {"run_id": asked["run_request_id"]}))
    platform_llm.script("It ran: the summary was emailed to ada@example.org.")
    events = _post(owner_client, session, "How did it go?")
    report = tool_results(events)["get_run_results"][0]
    assert report["execution_id"] == execution_id
    assert (report["status"], report["failed_nodes"]) == ("completed", [])
    assert last_tool_message(platform_llm.requests[-1]) == report
    # The earlier exchange, tool calls and results included, is the model's context.
    history = platform_llm.requests[-1]["body"]["messages"]
    assert [m["role"] for m in history].count("tool") >= 10
    assert events[-1][1]["content"] == "It ran: the summary was emailed to ada@example.org."


def test_a_failed_run_is_explained_node_by_node(
    copilot_worker,
    platform_llm,
    provider_server,
    mail_servers,
    owner: User,
    owner_client: APIClient,
) -> None:
    smtp, _ = mail_servers
    credential = integrations.credential_create(
        user=owner,
        provider="smtp",
        title="Wrong password",
        credential_type="user_password",
        username=USERNAME,
        password="not-the-password",
        base_url=smtp.url,
    )
    feed_url = f"{provider_server.url}/web/feed.xml"
    graph = {"name": "Digest", **feed_graph(feed_url, str(credential.pk))}
    agent_id = owner_client.post("/api/graphs", graph, format="json").json()["id"]
    session = _copilot(owner_client)
    platform_llm.script_tool_calls(("run_agent", {"agent_id": agent_id}))
    platform_llm.script("Confirm to run it.")
    asked = tool_results(_post(owner_client, session, "Run Digest"))["run_agent"][0]
    run = owner_client.post(f"/api/chat/runs/{asked['run_request_id']}/confirm").json()
    wait_for(
        lambda: GraphExecution.objects.filter(
            pk=run["execution_id"], status__in=["completed", "failed"]
        ).first(),
        timeout=60,
        what="the run to end",
    )
    platform_llm.script_tool_calls(("get_run_results", {"run_id": run["execution_id"]}))
    platform_llm.script("The email step failed: the mail server refused the password.")
    report = tool_results(_post(owner_client, session, "Why?"))["get_run_results"][0]
    [failed] = report["failed_nodes"]
    assert (failed["node_id"], failed["block"]) == ("email", "Send Email (SMTP)")
    assert "refused the username or password" in failed["error"]
    assert "not-the-password" not in json.dumps(platform_llm.requests[-1]["body"])


def test_a_graph_still_invalid_after_the_repair_rounds_is_reported_and_never_proposed(
    platform_llm, owner: User, owner_client: APIClient, settings
) -> None:
    settings.COPILOT_REPAIR_ROUNDS = 1
    session = _copilot(owner_client)
    unknown = {"nodes": [node("x", "no-such-block")], "links": []}
    cycle = {
        "nodes": [node("a", FEED, url="https://example.org/f"), node("b", FEED)],
        "links": [link("a", "feed_title", "b", "url"), link("b", "feed_title", "a", "url")],
    }
    platform_llm.script_tool_calls(("propose_graph", {"name": "Broken", **unknown}))
    platform_llm.script_tool_calls(("propose_graph", {"name": "Broken", **cycle}))
    platform_llm.script("never asked for")
    events = _post(owner_client, session, "make me something")
    results = tool_results(events)["propose_graph"]
    assert results[0]["node_errors"] == {"x": {"block_id": "unknown block 'no-such-block'"}}
    assert results[1]["node_errors"]["a"]["links"] == "this node is part of a cycle"
    done = events[-1][1]
    assert done["content"].startswith("I could not make a valid agent in 1 repair round;")
    assert "- b.links: this node is part of a cycle" in done["content"]
    assert done["cost"] == 0  # the platform's note is no model call
    assert len(platform_llm.requests) == 2  # the model was not called a third time
    assert not CopilotProposal.objects.exists()
    assert not Graph.objects.exists()
    platform_llm.reset()


def test_another_users_agents_are_invisible_to_the_tools(
    platform_llm, owner: User, other_user: User, owner_client: APIClient
) -> None:
    bob = APIClient()
    bob.force_authenticate(other_user)
    theirs = bob.post("/api/graphs", echo_graph("Bob's secret agent"), format="json").json()
    mine = owner_client.post("/api/graphs", echo_graph("Mine"), format="json").json()
    session = _copilot(owner_client)
    platform_llm.script_tool_calls(
        ("list_agents", {}),
        ("get_agent", {"agent_id": theirs["id"]}),
        ("run_agent", {"agent_id": theirs["id"], "inputs": {"topic": "x"}}),
        ("propose_graph", {"name": "Over Bob's", "agent_id": theirs["id"], **echo_graph()}),
    )
    platform_llm.script("I cannot see that agent.")
    results = tool_results(_post(owner_client, session, f"Run {theirs['id']}"))
    assert [a["id"] for a in results["list_agents"][0]["agents"]] == [mine["id"]]
    assert results["get_agent"] == [{"error": "Graph not found."}]
    assert results["run_agent"] == [{"error": "Graph not found."}]
    assert results["propose_graph"] == [{"error": "Graph not found."}]
    assert not CopilotRun.objects.exists()
    assert not CopilotProposal.objects.exists()
    # Nor can Bob open, save or confirm what the owner's copilot made.
    platform_llm.script_tool_calls(("propose_graph", {"name": "Echo", **echo_graph()}))
    platform_llm.script_tool_calls(
        ("run_agent", {"agent_id": mine["id"], "inputs": {"topic": "x"}})
    )
    platform_llm.script("Done.")
    results = tool_results(_post(owner_client, session, "again"))
    proposal_id = results["propose_graph"][0]["proposal_id"]
    run_id = results["run_agent"][0]["run_request_id"]
    assert bob.get(f"/api/chat/proposals/{proposal_id}").status_code == 404
    assert bob.post(f"/api/chat/proposals/{proposal_id}/save").status_code == 404
    refused = bob.post(f"/api/chat/runs/{run_id}/confirm")
    assert refused.status_code == 404
    assert refused.json()["error"]["error_code"] == "NOT_FOUND"
    assert CopilotRun.objects.get(pk=run_id).status == "pending"


def test_a_run_the_user_did_not_confirm_never_starts(
    platform_llm, owner: User, owner_client: APIClient
) -> None:
    agent = owner_client.post("/api/graphs", echo_graph(), format="json").json()
    session = _copilot(owner_client)
    platform_llm.script_tool_calls(("run_agent", {"agent_id": agent["id"], "inputs": {}}))
    platform_llm.script_tool_calls(
        ("run_agent", {"agent_id": agent["id"], "inputs": {"topic": "otters"}})
    )
    platform_llm.script("Confirm it, please.")
    results = tool_results(_post(owner_client, session, "run echo"))["run_agent"]
    # A run the platform would refuse is refused at once, to the model.
    assert results[0]["details"]["node_errors"] == {
        "in": {"value": "the run input 'topic' is required"}
    }
    run_id = results[1]["run_request_id"]
    assert not GraphExecution.objects.exists()
    declined = owner_client.post(f"/api/chat/runs/{run_id}/decline")
    assert declined.json()["status"] == "declined"
    late = owner_client.post(f"/api/chat/runs/{run_id}/confirm")
    assert late.status_code == 409
    assert not GraphExecution.objects.exists()
    # The model reading it learns that no run was started.
    platform_llm.script_tool_calls(("get_run_results", {"run_id": run_id}))
    platform_llm.script("You declined it.")
    report = tool_results(_post(owner_client, session, "did it run?"))["get_run_results"][0]
    assert report["status"] == "declined"


def test_a_model_error_is_a_clear_message_and_the_session_stays_usable(
    platform_llm, owner: User, owner_client: APIClient
) -> None:
    integrations.credential_create(
        user=owner,
        provider="openai",
        title="Mine",
        api_key="sk-own-0123456789",
        base_url=platform_llm.url,
    )
    session = _copilot(owner_client)
    ChatSession.objects.filter(pk=session.pk).update(model="error-429")
    events = _post(owner_client, session, "build me an agent")
    assert [name for name, _ in events] == ["message_start", "error"]
    assert events[-1][1]["message"] == (
        f"The provider at {platform_llm.url} answered 429: Rate limit reached for requests."
    )
    failed = ChatMessage.objects.get(pk=events[-1][1]["message_id"])
    assert failed.status == "failed"
    # The provider recovers: the same session goes on, the failed reply left out of the context.
    ChatSession.objects.filter(pk=session.pk).update(model="local-llama")
    platform_llm.script_tool_calls(("list_agents", {}), ("not_a_tool", "{broken"))
    platform_llm.script("You have no agents yet.")
    events = _post(owner_client, session, "what agents do I have?")
    assert events[-1][0] == "done"
    results = tool_results(events)
    assert results["not_a_tool"] == [{"error": "there is no tool named 'not_a_tool'"}]
    roles = [m["role"] for m in platform_llm.requests[-1]["body"]["messages"]]
    assert roles == ["system", "user", "user", "assistant", "tool", "tool"]


def test_each_tool_call_and_result_streams_over_sse_and_ws(
    asgi_server, platform_llm, owner: User
) -> None:
    token = str(AccessToken.for_user(owner))
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    with httpx.Client(timeout=30) as client:
        created = client.post(
            f"{asgi_server.url}/api/chat/sessions",
            json={"copilot": True},
            headers={"Authorization": headers["Authorization"]},
        )
        session_id = created.json()["id"]
        platform_llm.script_tool_calls(("search_blocks", {"query": "rss"}))
        platform_llm.script("The feed block reads RSS.")
        with (
            connect(f"{asgi_server.ws_url}/ws?token={token}") as socket,
            client.stream(
                "POST",
                f"{asgi_server.url}/api/chat/sessions/{session_id}/messages",
                json={"content": "which block reads feeds?"},
                headers=headers,
            ) as response,
        ):
            seen = list(_events(response))
            pushed = []
            while not pushed or pushed[-1]["method"] != "chat_message_done":
                message = json.loads(socket.recv(timeout=10))
                if message["method"].startswith("chat_"):
                    pushed.append(message)
                    done = message["method"] == "chat_message_done"
                    if done and message["data"]["message_id"] != seen[-1][1]["id"]:
                        pushed.pop()  # the tool-calling turn's own end; wait for the last
    assert [name for name, _ in seen] == [
        "message_start", "tool_call", "tool_result", "turn", "delta", "done",
    ]  # fmt: skip
    call, result = seen[1][1], seen[2][1]
    assert (call["name"], json.loads(call["arguments"])) == ("search_blocks", {"query": "rss"})
    assert result["tool_call_id"] == call["tool_call_id"]
    assert FEED in [block["id"] for block in result["result"]["blocks"]]
    methods = [m["method"] for m in pushed]
    assert methods == ["chat_tool_call", "chat_tool_result", "chat_message_delta",
                       "chat_message_done"]  # fmt: skip
    assert pushed[1]["data"]["result"] == result["result"]
    stored = ChatMessage.objects.get(pk=result["message_id"])
    assert (stored.role, stored.tool_name, json.loads(stored.content)) == (
        "tool",
        "search_blocks",
        result["result"],
    )


def test_a_step_the_balance_cannot_pay_for_ends_the_reply_with_the_reason(
    platform_llm, owner: User, owner_client: APIClient
) -> None:
    session = _copilot(owner_client)
    balance = credit_balance_get(user_id=owner.pk)
    credit_apply(
        user_id=owner.pk,
        amount=PRICE - balance,
        type="ADJUSTMENT",
        transaction_key="test:one-call-left",
    )
    platform_llm.script_tool_calls(("list_agents", {}))
    platform_llm.script("never asked for")
    events = _post(owner_client, session, "what do I have?")
    names = [name for name, _ in events]
    assert names == ["message_start", "tool_call", "tool_result", "error"]
    assert events[-1][1]["message"].startswith("Not enough credits for the next step")
    assert len(platform_llm.requests) == 1  # the unpaid call was never made
    assert credit_balance_get(user_id=owner.pk) == 0
    stopped = ChatMessage.objects.get(pk=events[-1][1]["message_id"])
    assert (stopped.status, stopped.cost) == ("failed", 0)
    platform_llm.reset()
