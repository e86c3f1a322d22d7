"""OAuth2 credentials end to end (SPEC §16) against a local authorization server
(tests/providers/server.py): consent with PKCE, the callback, a state good once, tokens stored
encrypted, refresh before expiry and once on a 401, and a failed refresh → `needs_reauth`, the
node's error and a notification to the owner."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.graphs.blocks.library.github import GitHubListIssuesBlock
from apps.integrations.models import Credential, OAuthState
from apps.integrations.tasks import oauth_states_cleanup
from apps.notifications.models import Notification
from apps.users.models import User
from tests.processes import LOOPBACK_TEST_PORTS

pytestmark = pytest.mark.django_db(transaction=True)
CALLBACK = "/settings/credentials/oauth2/callback"


@pytest.fixture
def oauth(settings, provider_server):
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    settings.OAUTH_CLIENTS = {
        "github": {
            "client_id": "test-client",
            "client_secret": "test-secret",
            "authorize_url": f"{provider_server.url}/oauth/authorize",
            "token_url": f"{provider_server.url}/oauth/token",
        }
    }
    return provider_server


@pytest.fixture
def browser(owner: User) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def _connect(browser: Client, server) -> tuple[str, str]:
    """Dashboard "Connect" → the provider's consent page → back: (callback path, query)."""
    started = browser.post(
        "/settings/credentials/connect/github",
        {"title": "My GitHub", "base_url": server.base_url("github")},
    )
    assert started.status_code == 302, started.content
    consent = started["Location"]
    query = parse_qs(urlsplit(consent).query)
    assert consent.startswith(f"{server.url}/oauth/authorize")
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0]
    assert query["client_id"] == ["test-client"]
    assert query["scope"] == ["repo"]
    answer = httpx.get(consent, follow_redirects=False)  # the user approves at the provider
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    assert back.path == CALLBACK
    return back.path, back.query


def _list_issues(owner_client: APIClient) -> dict:
    response = owner_client.post(
        f"/api/blocks/{GitHubListIssuesBlock.id}/execute", {"repo": "otters/zoo"}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _github_tokens(server) -> list[str]:
    return [
        request["headers"].get("Authorization", "")
        for request in server.requests
        if request["path"].startswith("/github/")
    ]


def test_it_connects_with_pkce_and_a_state_good_once(oauth, browser, owner, owner_client):
    path, query = _connect(browser, oauth)
    done = browser.get(f"{path}?{query}")
    assert done.status_code == 302
    assert done["Location"] == "/settings/credentials"
    credential = Credential.objects.get(user=owner)
    assert (credential.provider, credential.credential_type, credential.status) == (
        "github",
        "oauth2",
        "active",
    )
    assert credential.expires_at is not None
    assert credential.scopes == ["repo"]
    assert "at-" not in credential.encrypted_api_key
    assert "rt-" not in credential.encrypted_extra
    assert not OAuthState.objects.exists()

    replay = browser.get(f"{path}?{query}", follow=True)
    assert "already used" in replay.content.decode()
    assert Credential.objects.count() == 1

    outputs = _list_issues(owner_client)
    assert outputs["issues"][0][0]["title"] == "Otters missing"
    assert _github_tokens(oauth)[-1].startswith("Bearer at-")
    page = browser.get("/settings/credentials").content.decode()
    assert "My GitHub" in page
    assert "active" in page


def test_an_expired_state_is_refused_and_forgotten(oauth, browser):
    path, query = _connect(browser, oauth)
    OAuthState.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        page = browser.get(f"{path}?{query}", follow=True).content.decode()
    assert "expired" in page
    assert oauth_states_cleanup() == 1
    assert not Credential.objects.exists()


def test_a_forged_or_denied_consent_stores_nothing(oauth, browser, owner):
    path, query = _connect(browser, oauth)
    forged = query.replace("state=", "state=x")
    assert "not valid" in browser.get(f"{path}?{forged}", follow=True).content.decode()
    oauth.state.deny_consent = True
    path, query = _connect(browser, oauth)
    page = browser.get(f"{path}?{query}", follow=True).content.decode()
    assert "did not grant access: access_denied" in page
    assert not Credential.objects.exists()


def test_it_refreshes_once_on_a_401_and_retries(oauth, browser, owner, owner_client):
    path, query = _connect(browser, oauth)
    browser.get(f"{path}?{query}")
    first = _list_issues(owner_client)
    old = _github_tokens(oauth)[-1]
    oauth.state.tokens.discard(old.removeprefix("Bearer "))  # the provider revokes it
    outputs = _list_issues(owner_client)
    assert "error" not in outputs, outputs
    assert "issues" in outputs
    tokens = _github_tokens(oauth)
    assert tokens[-2] == old
    assert tokens[-1] != old
    refreshes = [r for r in oauth.requests if r["path"] == "/oauth/token"]
    assert len(refreshes) == 2  # the code exchange, then one refresh
    assert first["issues"] == outputs["issues"]


def test_it_refreshes_a_token_about_to_expire_before_using_it(oauth, browser, owner_client):
    oauth.state.expires_in = 30  # under OAUTH_REFRESH_MARGIN_SECONDS
    path, query = _connect(browser, oauth)
    browser.get(f"{path}?{query}")
    issued = Credential.objects.get().expires_at
    _list_issues(owner_client)
    kinds = [r["path"] for r in oauth.requests if r["path"] in ("/oauth/token",)]
    github = [r for r in oauth.requests if r["path"].startswith("/github/")]
    assert len(kinds) == 2
    assert len(github) == 1
    assert github[0]["headers"]["Authorization"] != "Bearer at-1"
    assert Credential.objects.get().expires_at > issued


def test_a_failed_refresh_needs_reauth_fails_the_node_and_tells_the_owner(
    oauth, browser, owner, owner_client
):
    path, query = _connect(browser, oauth)
    browser.get(f"{path}?{query}")
    oauth.state.tokens.clear()
    oauth.state.refresh_fails = True
    outputs = _list_issues(owner_client)
    assert "needs to be connected again" in outputs["error"][0]
    credential = Credential.objects.get()
    assert credential.status == Credential.Status.NEEDS_REAUTH
    notice = Notification.objects.get(user=owner, type="credential_needs_reauth")
    assert "My GitHub" in notice.title
    assert "refresh revoked" in notice.message

    calls = len(oauth.requests)
    again = _list_issues(owner_client)
    assert "needs to be connected again" in again["error"][0]
    assert len(oauth.requests) == calls  # refused before calling anyone
    page = browser.get("/settings/credentials").content.decode()
    assert "needs re-authorization" in page
    assert "Reconnect" in page

    oauth.state.refresh_fails = False  # reconnecting renews the same credential
    started = browser.post(
        "/settings/credentials/connect/github", {"credential_id": str(credential.pk)}
    )
    back = urlsplit(httpx.get(started["Location"], follow_redirects=False).headers["location"])
    browser.get(f"{back.path}?{back.query}")
    assert Credential.objects.get().status == Credential.Status.ACTIVE
    assert "issues" in _list_issues(owner_client)
