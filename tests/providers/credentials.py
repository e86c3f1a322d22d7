"""The credentials a provider block's examples run with: each provider's local fake."""

from typing import Any

from apps.graphs.blocks.context import ProviderCredentials
from tests.providers.mail import PASSWORD, USERNAME
from tests.providers.server import VALID_TOKEN


def example_credentials(
    provider: str, *, provider_server: Any, openai_server: Any, mail_servers: Any
) -> ProviderCredentials:
    smtp, imap = mail_servers
    if provider == "openai":
        return ProviderCredentials(provider=provider, api_key="sk-test", base_url=openai_server.url)
    if provider in ("smtp", "imap"):
        return ProviderCredentials(
            provider=provider,
            api_key=PASSWORD,
            username=USERNAME,
            base_url=(smtp if provider == "smtp" else imap).url,
            credential_type="user_password",
            id="example",
        )
    if provider == "searxng":
        return ProviderCredentials(
            provider=provider,
            api_key="",
            base_url=provider_server.base_url("searxng"),
            credential_type="host_headers",
            headers={"X-Searx-Token": "searx-secret"},
            id="example",
        )
    return ProviderCredentials(
        provider=provider,
        api_key=VALID_TOKEN,
        base_url=provider_server.base_url(provider),
        id="example",
    )
