"""The providers users may store credentials for, declared in code (SPEC §16).

A provider has a name (what blocks name in `credentials_provider`), the credential types it
accepts, a default base URL (a credential may carry its own, for a self-hosted or enterprise
server) and, when it speaks OAuth2, its endpoints and scopes. OAuth2 client ids and secrets
come from settings (`OAUTH_<NAME>_CLIENT_ID` / `_CLIENT_SECRET`); a provider without them offers
no "Connect".
"""

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings


class CredentialType(StrEnum):
    API_KEY = "api_key"  # one token sent in a header (Bearer unless the provider says otherwise)
    OAUTH2 = "oauth2"  # access + refresh tokens from the authorization-code flow
    USER_PASSWORD = "user_password"  # noqa: S105 (a type name) - SMTP/IMAP accounts, HTTP basic auth
    HOST_HEADERS = "host_headers"  # a base URL and the headers every request to it carries


@dataclass(frozen=True)
class OAuth2Endpoints:
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    # Extra query parameters of the consent URL (Google needs offline access for a refresh token).
    authorize_params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    default_base_url: str
    credential_types: tuple[CredentialType, ...]
    oauth2: OAuth2Endpoints | None = None

    def accepts(self, credential_type: str) -> bool:
        return credential_type in self.credential_types


API_KEY, OAUTH2 = CredentialType.API_KEY, CredentialType.OAUTH2
USER_PASSWORD, HOST_HEADERS = CredentialType.USER_PASSWORD, CredentialType.HOST_HEADERS

OPENAI = Provider(
    name="openai",
    title="OpenAI-compatible API",
    default_base_url="https://api.openai.com/v1",
    credential_types=(API_KEY,),
)
_DECLARED = (
    OPENAI,
    Provider("smtp", "Email sending (SMTP)", "smtps://smtp.example.com:465", (USER_PASSWORD,)),
    Provider("imap", "Email reading (IMAP)", "imaps://imap.example.com:993", (USER_PASSWORD,)),
    Provider(
        "slack",
        "Slack",
        "https://slack.com/api",
        (API_KEY, OAUTH2),
        OAuth2Endpoints(
            "https://slack.com/oauth/v2/authorize",
            "https://slack.com/api/oauth.v2.access",
            ("chat:write", "channels:history", "channels:read"),
        ),
    ),
    Provider("discord", "Discord (bot token)", "https://discord.com/api/v10", (API_KEY,)),
    Provider("telegram", "Telegram (bot token)", "https://api.telegram.org", (API_KEY,)),
    Provider(
        "github",
        "GitHub",
        "https://api.github.com",
        (API_KEY, OAUTH2),
        OAuth2Endpoints(
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
            ("repo",),
        ),
    ),
    Provider(
        "google",
        "Google (Sheets, Gmail, Calendar)",
        "https://www.googleapis.com",
        (OAUTH2,),
        OAuth2Endpoints(
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            (
                "https://www.googleapis.com/auth/spreadsheets",
                "https://www.googleapis.com/auth/gmail.send",
                "https://www.googleapis.com/auth/calendar.events",
            ),
            (("access_type", "offline"), ("prompt", "consent")),
        ),
    ),
    Provider(
        "notion",
        "Notion",
        "https://api.notion.com/v1",
        (API_KEY, OAUTH2),
        OAuth2Endpoints(
            "https://api.notion.com/v1/oauth/authorize",
            "https://api.notion.com/v1/oauth/token",
            (),
            (("owner", "user"),),
        ),
    ),
    Provider("searxng", "SearXNG search", "", (HOST_HEADERS,)),
)
PROVIDERS = {provider.name: provider for provider in _DECLARED}


def oauth_client(provider: str) -> tuple[str, str] | None:
    """(client id, client secret) the operator registered for `provider`, or None."""
    clients = getattr(settings, "OAUTH_CLIENTS", {})
    client = clients.get(provider) or {}
    if client.get("client_id") and client.get("client_secret"):
        return client["client_id"], client["client_secret"]
    return None


def oauth_endpoints(provider: str) -> OAuth2Endpoints | None:
    """The provider's OAuth2 endpoints, with any the operator overrode (an enterprise server,
    or the tests' local OAuth2 server)."""
    declared = PROVIDERS[provider].oauth2
    if declared is None:
        return None
    client = getattr(settings, "OAUTH_CLIENTS", {}).get(provider) or {}
    return OAuth2Endpoints(
        authorize_url=client.get("authorize_url") or declared.authorize_url,
        token_url=client.get("token_url") or declared.token_url,
        scopes=declared.scopes,
        authorize_params=declared.authorize_params,
    )


def platform_api_key(provider: str) -> str:
    """The operator's key for `provider` ("" when none): used when a user has none of their
    own, and then block costs apply."""
    return {"openai": settings.OPENAI_API_KEY}.get(provider, "")


def platform_base_url(provider: str) -> str:
    return {"openai": settings.OPENAI_BASE_URL}.get(provider) or PROVIDERS[
        provider
    ].default_base_url
