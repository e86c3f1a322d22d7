"""The copilot's parts of the dashboard (SPEC §18): the chat page shows what the copilot made,
the user's clicks save a proposal or answer a run request, and the builder opens a proposal,
each for its owner only."""

import pytest
from django.test import Client

from apps.chat.models import ChatMessage, ChatSession, CopilotProposal, CopilotRun
from apps.executions.models import GraphExecution
from apps.graphs.models import Graph
from apps.users.models import User
from tests.dashboard.helpers import make_graph
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db


def _copilot_session(user: User) -> tuple[ChatSession, ChatMessage]:
    session = ChatSession.objects.create(user=user, title="Agents", copilot=True)
    ChatMessage.objects.create(
        session=session,
        role="assistant",
        tool_calls=[{"id": "c1", "name": "propose_graph", "arguments": "{}"}],
    )
    tool = ChatMessage.objects.create(
        session=session, role="tool", tool_call_id="c1", tool_name="propose_graph", content="{}"
    )
    return session, tool


def _proposal(user: User) -> CopilotProposal:
    session, tool = _copilot_session(user)
    graph = echo_graph("Echo from the copilot")
    return CopilotProposal.objects.create(
        session=session, message=tool, name=graph["name"], nodes=graph["nodes"],
        links=graph["links"],
    )  # fmt: skip


def test_the_chat_page_shows_a_proposal_and_saving_it_makes_the_agent(
    owner: User, alice: Client, bob: Client
) -> None:
    proposal = _proposal(owner)
    page = alice.get(f"/chat/{proposal.session_id}").content.decode()
    assert "Proposal: Echo from the copilot" in page
    assert f'href="/agents/new?proposal={proposal.pk}"' in page
    assert "Calls</span> <code>propose_graph</code>" in page
    assert bob.post(f"/chat/proposals/{proposal.pk}/save").status_code == 404
    assert not Graph.objects.exists()
    response = alice.post(f"/chat/proposals/{proposal.pk}/save")
    assert response.status_code == 302
    graph = Graph.objects.get(user=owner)
    assert graph.versions.get().name == "Echo from the copilot"
    page = alice.get(f"/chat/{proposal.session_id}").content.decode()
    assert f'href="/agents/{graph.pk}/edit"' in page
    # A second click saves nothing more.
    alice.post(f"/chat/proposals/{proposal.pk}/save")
    assert Graph.objects.count() == 1


def test_the_builder_opens_a_proposal_of_the_users_own(
    owner: User, alice: Client, bob: Client
) -> None:
    proposal = _proposal(owner)
    page = alice.get(f"/agents/new?proposal={proposal.pk}")
    assert page.status_code == 200
    boot = page.context["bootstrap"]
    assert boot["proposalId"] == str(proposal.pk)
    assert boot["graphId"] is None
    assert bob.get(f"/agents/new?proposal={proposal.pk}").status_code == 404
    assert alice.get("/agents/new?proposal=not-a-uuid").status_code == 404


def test_a_run_request_starts_only_on_the_users_confirmation(
    owner: User, alice: Client, bob: Client
) -> None:
    session, tool = _copilot_session(owner)
    version = make_graph(owner)
    run = CopilotRun.objects.create(
        session=session, message=tool, graph=version.graph, graph_version=version.version,
        graph_name=version.name, inputs={"topic": "otters"},
    )  # fmt: skip
    page = alice.get(f"/chat/{session.pk}").content.decode()
    assert 'value="confirm"' in page
    assert "otters" in page
    assert bob.post(f"/chat/runs/{run.pk}", {"decision": "confirm"}).status_code == 404
    assert not GraphExecution.objects.exists()
    alice.post(f"/chat/runs/{run.pk}", {"decision": "confirm"})
    run.refresh_from_db()
    assert run.status == "started"
    assert GraphExecution.objects.get().inputs == {"topic": "otters"}
    page = alice.get(f"/chat/{session.pk}").content.decode()
    assert f'href="/runs/{run.execution_id}"' in page
