"""The Credentials page creates each non-OAuth2 type, offers "Connect" for configured OAuth2
providers, and shows each credential's status and the agents that use it (SPEC §16)."""

import pytest
from django.test import Client

from apps.graphs.blocks.library.github import GitHubListIssuesBlock
from apps.graphs.services import graph_create
from apps.graphs.spec import GraphSpec, NodeSpec
from apps.integrations.models import Credential
from apps.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(owner: User, settings) -> Client:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = ["127.0.0.1:2525", "127.0.0.1:8888"]
    client = Client()
    client.force_login(owner)
    return client


def test_it_creates_user_password_and_host_headers_credentials(page: Client, owner: User):
    saved = page.post(
        "/settings/credentials",
        {"provider": "smtp", "credential_type": "user_password", "title": "Mail",
         "username": "otto@example.org", "password": "pw-secret-123",
         "base_url": "smtp://127.0.0.1:2525"},
    )  # fmt: skip
    assert saved.status_code == 302
    saved = page.post(
        "/settings/credentials",
        {"provider": "searxng", "credential_type": "host_headers", "title": "Search",
         "headers": "X-Searx-Token: searx-secret\\nAccept: application/json".replace("\\n", "\n"),
         "base_url": "http://127.0.0.1:8888"},
    )  # fmt: skip
    assert saved.status_code == 302
    body = page.get("/settings/credentials").content.decode()
    assert "user_password" in body
    assert "host_headers" in body
    assert "pw-secret-123" not in body
    assert "searx-secret" not in body
    assert Credential.objects.filter(user=owner).count() == 2

    refused = page.post(
        "/settings/credentials",
        {"provider": "google", "credential_type": "api_key", "title": "G", "api_key": "k"},
    )
    assert refused.status_code == 400
    assert "takes oauth2 credentials" in refused.content.decode()
    bad_headers = page.post(
        "/settings/credentials",
        {"provider": "searxng", "credential_type": "host_headers", "title": "x", "headers": "oops",
         "base_url": "http://127.0.0.1:8888"},
    )  # fmt: skip
    assert bad_headers.status_code == 400
    assert "is not `Name: value`" in bad_headers.content.decode()


def test_it_offers_connect_and_shows_status_and_the_agents_using_it(
    page: Client, owner: User, settings
):
    assert "Connect GitHub" not in page.get("/settings/credentials").content.decode()
    settings.OAUTH_CLIENTS = {"github": {"client_id": "id", "client_secret": "secret"}}
    credential = Credential.objects.create(
        user=owner, provider="github", credential_type="oauth2", title="Octo",
        status=Credential.Status.NEEDS_REAUTH,
    )  # fmt: skip
    graph_create(
        user=owner,
        name="Issue triage",
        spec=GraphSpec(
            nodes=(
                NodeSpec(
                    key="issues",
                    block_id=GitHubListIssuesBlock.id,
                    input_default={"repo": "a/b"},
                    metadata={"credentials_id": str(credential.pk)},
                ),
            ),
            links=(),
        ),
    )
    body = page.get("/settings/credentials").content.decode()
    assert "Connect GitHub" in body
    assert "needs re-authorization" in body
    assert "Issue triage" in body
