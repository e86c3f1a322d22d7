"""The one call path of provider blocks (apps/graphs/blocks/providers.py) against a real server:
every failure names the provider and the cause, records its kind for the retry policy (SPEC §17),
and never carries a secret."""

import pytest

from apps.graphs.blocks.base import PROVIDER_RETRY, FailureKind
from apps.graphs.blocks.context import ProviderCredentials
from apps.graphs.blocks.library.github import GitHubListIssuesBlock
from apps.graphs.blocks.library.messaging import TelegramSendMessageBlock
from apps.graphs.blocks.registry import all_blocks
from apps.graphs.runtime import block_context_build
from tests.processes import LOOPBACK_TEST_PORTS, free_port
from tests.providers.server import VALID_TOKEN

pytestmark = pytest.mark.django_db


def _run(block, data, owner, credentials):
    context = block_context_build(user=owner, credentials=credentials)
    return list(block.execute(data, context)), context.stats


def _github(base_url: str, token: str = VALID_TOKEN, **extra) -> dict:
    return {
        "github": ProviderCredentials(
            provider="github", api_key=token, base_url=base_url, id="c1", **extra
        )
    }


@pytest.fixture
def loopback(settings):
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    return settings


@pytest.mark.parametrize(
    ("path", "message", "kind", "retriable"),
    [
        ("errors/malformed", "GitHub answered with malformed JSON.", "invalid_response", False),
        ("errors/limited", "GitHub answered 429 (rate limited): slow down.", "rate_limited", True),
        ("errors/down", "GitHub answered 502 (a server error): bad gateway.", "server_error", True),
    ],
)
def test_it_names_the_provider_and_the_cause(
    loopback, provider_server, owner, path, message, kind, retriable
):
    block = GitHubListIssuesBlock()
    # The block asks for repos/…/issues under the base URL; these routes answer any path.
    base = f"{provider_server.url}/{path}"
    outputs, stats = _run(block, {"repo": "a/b"}, owner, _github(base))
    assert outputs == [("error", message)]
    assert stats["failure_kind"] == kind
    assert PROVIDER_RETRY.is_retriable(stats["failure_kind"]) is retriable
    if kind == "rate_limited":
        assert stats["retry_after_seconds"] == 7.0


def test_a_huge_body_a_silent_server_and_a_closed_port_fail_cleanly(
    loopback, provider_server, owner
):
    block = GitHubListIssuesBlock()
    loopback.BLOCK_HTTP_MAX_RESPONSE_BYTES = 10_000
    outputs, stats = _run(
        block, {"repo": "a/b"}, owner, _github(f"{provider_server.url}/errors/huge")
    )
    assert "GitHub sent a response over the size limit" in outputs[0][1]
    assert stats["failure_kind"] == FailureKind.INVALID_RESPONSE

    loopback.BLOCK_HTTP_TIMEOUT_SECONDS = 1
    slow = f"{provider_server.url}/errors/slow"
    outputs, stats = _run(block, {"repo": "a/b"}, owner, _github(slow))
    assert outputs[0][1].startswith("GitHub did not answer in time")
    assert stats["failure_kind"] == FailureKind.TIMEOUT

    closed = f"http://127.0.0.1:{free_port()}"
    outputs, stats = _run(block, {"repo": "a/b"}, owner, _github(closed))
    assert outputs[0][1].startswith("GitHub could not be reached")
    assert stats["failure_kind"] == FailureKind.CONNECTION


def test_a_private_address_is_refused_without_the_allow_list(provider_server, owner, settings):
    settings.BLOCK_HTTP_ALLOWED_HOSTS = []
    outputs, _ = _run(
        GitHubListIssuesBlock(), {"repo": "a/b"}, owner, _github(provider_server.base_url("github"))
    )
    assert outputs[0][0] == "error"
    assert "loopback" in outputs[0][1]
    assert provider_server.requests == []


def test_missing_or_unusable_credentials_fail_before_any_call(loopback, provider_server, owner):
    outputs, _ = _run(GitHubListIssuesBlock(), {"repo": "a/b"}, owner, {})
    assert outputs == [
        (
            "error",
            "No GitHub credentials: add yours on the Credentials page and pick them for this node.",
        )
    ]
    unusable = _github("", token="", error="The credential “x” is for slack, not github.")
    outputs, _ = _run(GitHubListIssuesBlock(), {"repo": "a/b"}, owner, unusable)
    assert outputs == [("error", "The credential “x” is for slack, not github.")]
    assert provider_server.requests == []


def test_a_token_in_the_url_never_reaches_the_error(loopback, owner):
    token = "123456:telegram-bot-secret"
    credentials = {
        "telegram": ProviderCredentials(
            provider="telegram", api_key=token, base_url=f"http://127.0.0.1:{free_port()}", id="c"
        )
    }
    outputs, _ = _run(TelegramSendMessageBlock(), {"chat_id": "1", "text": "x"}, owner, credentials)
    assert outputs[0][0] == "error"
    assert token not in outputs[0][1]
    assert "bot***" in outputs[0][1]


def test_every_provider_block_declares_its_provider_types_and_retries(owner_client) -> None:
    assert owner_client.get("/api/blocks").json()["total"] >= 85
    by_provider = owner_client.get("/api/blocks?provider=github&page_size=100").json()["data"]
    assert len(by_provider) == 7
    assert all(block["name"].startswith("GitHub: ") for block in by_provider)
    github = owner_client.get(f"/api/blocks/{GitHubListIssuesBlock.id}").json()
    assert github["credentials_provider"] == "github"
    assert github["credential_types"] == ["api_key", "oauth2"]
    assert github["retry_policy"] == {
        "max_attempts": 3,
        "retriable": ["connection", "rate_limited", "server_error", "timeout"],
    }
    for block in all_blocks():
        if block.credentials_provider and block.credentials_provider != "openai":
            assert block.retry_policy is PROVIDER_RETRY, block.name
            assert block.credential_types, block.name
