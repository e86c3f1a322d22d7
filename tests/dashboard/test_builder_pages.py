"""The builder's Django pages: login, ownership, the bootstrap the island reads, and a clear
page when the bundle was never built."""

import json
import re

import pytest
from django.test import Client

from apps.graphs.models import Graph
from apps.integrations.services import credential_create
from apps.store.models import LibraryAgent
from apps.users.models import User
from tests.dashboard.helpers import listing_url, make_graph, publish


def _bootstrap(html: str) -> dict:
    found = re.search(
        r'<script id="builder-bootstrap" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, "no bootstrap on the page"
    return json.loads(found.group(1))


def test_it_asks_to_sign_in_first(client: Client) -> None:
    response = client.get("/agents/new")
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_it_bootstraps_a_new_agent_with_only_the_users_credentials(
    alice: Client, owner: User, other_user: User
) -> None:
    mine = credential_create(user=owner, provider="openai", title="Mine", api_key="sk-mine")
    credential_create(user=other_user, provider="openai", title="Bob's", api_key="sk-bob")
    response = alice.get("/agents/new")
    assert response.status_code == 200
    boot = _bootstrap(response.content.decode())
    assert boot["graphId"] is None
    assert boot["fromGraphId"] is None
    assert boot["credentials"] == {
        "openai": [{"id": str(mine.pk), "title": "Mine", "type": "api_key"}]
    }
    assert boot["providers"]["openai"] == "OpenAI-compatible API"
    assert boot["urls"]["blocks"] == "/api/blocks"
    assert boot["csrfToken"]


def test_it_opens_the_users_agent_at_a_version(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    response = alice.get(f"/agents/{version.graph_id}/edit?version=1")
    boot = _bootstrap(response.content.decode())
    assert boot["graphId"] == str(version.graph_id)
    assert boot["version"] == 1


def test_another_users_agent_is_a_404(bob: Client, owner: User) -> None:
    version = make_graph(owner)
    assert bob.get(f"/agents/{version.graph_id}/edit").status_code == 404
    assert bob.get(f"/agents/new?from={version.graph_id}").status_code == 404


def test_a_template_opens_as_a_new_agent(bob: Client, owner: User) -> None:
    template = make_graph(owner, is_template=True)
    response = bob.get(f"/agents/new?from={template.graph_id}")
    assert response.status_code == 200
    assert _bootstrap(response.content.decode())["fromGraphId"] == str(template.graph_id)


def test_the_agents_list_leads_to_the_builder(alice: Client, owner: User) -> None:
    empty = alice.get("/agents").content.decode()
    assert 'href="/agents/new"' in empty
    assert "Build your first agent" in empty
    version = make_graph(owner)
    listed = alice.get("/agents").content.decode()
    assert f'href="/agents/{version.graph_id}/edit"' in listed
    agent_page = alice.get(f"/agents/{version.graph_id}").content.decode()
    assert f"/agents/{version.graph_id}/edit?version=1" in agent_page


@pytest.mark.parametrize("built", [True, False])
def test_it_says_when_the_bundle_is_not_built(alice: Client, monkeypatch, built: bool) -> None:
    monkeypatch.setattr(
        "apps.dashboard.views.builder.finders.find", lambda path: __file__ if built else None
    )
    html = alice.get("/agents/new").content.decode()
    assert ("builder-missing" in html) is not built
    assert ('<script type="module"' in html) is built
    if built:  # the URL changes with each build, so a new bundle is never taken from a cache
        assert re.search(r"builder/builder\.js\?v=\d+", html)
    else:
        assert "make install" in html


def test_a_library_agent_forks_straight_into_the_builder(
    owner: User, other_user: User, staff: User, bob: Client
) -> None:
    agent = publish(owner, staff, "Otter echo")
    bob.post(listing_url(agent) + "/add")
    library_agent = LibraryAgent.objects.get(user=other_user)
    assert (
        "Fork and edit in the builder" in bob.get(f"/library/{library_agent.pk}").content.decode()
    )
    response = bob.post(f"/library/{library_agent.pk}/fork", {"then": "edit"})
    fork = Graph.objects.get(user=other_user)
    assert response["Location"] == f"/agents/{fork.pk}/edit"
