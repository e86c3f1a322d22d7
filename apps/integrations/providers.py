"""The providers users may store credentials for, and the platform's own credentials.

Only OpenAI-compatible chat-completion APIs for now: OpenAI itself, or any server speaking its
protocol (vLLM, Ollama, LiteLLM, …) at a base URL the user gives with the key.
"""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    default_base_url: str


OPENAI = Provider(
    name="openai",
    title="OpenAI-compatible API",
    default_base_url="https://api.openai.com/v1",
)
PROVIDERS = {provider.name: provider for provider in (OPENAI,)}


def platform_api_key(provider: str) -> str:
    """The operator's key for `provider` ("" when none): used when a user has none of their
    own, and then block costs apply."""
    return {"openai": settings.OPENAI_API_KEY}.get(provider, "")


def platform_base_url(provider: str) -> str:
    return {"openai": settings.OPENAI_BASE_URL}.get(provider) or PROVIDERS[
        provider
    ].default_base_url
