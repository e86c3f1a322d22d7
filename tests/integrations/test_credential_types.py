"""Credential types of the provider registry (SPEC §16): each is created through the API with
only the fields it needs, its secrets stay write-only and encrypted, and a provider refuses the
types it does not declare."""

import pytest
from rest_framework.test import APIClient

from apps.integrations.models import Credential
from apps.integrations.selectors import credential_resolve
from apps.users.models import User

PASSWORD = "mail-password-0123456789"
TOKEN = "searx-token-abcdef0123456789"


def _create(client: APIClient, **body):
    return client.post("/api/integrations/credentials", body, format="json")


@pytest.mark.django_db
def test_it_lists_providers_with_their_credential_types(owner_client: APIClient) -> None:
    providers = {row["name"]: row for row in owner_client.get("/api/integrations/providers").json()}
    assert {"openai", "smtp", "imap", "slack", "github", "google", "notion", "searxng"} <= set(
        providers
    )
    assert providers["google"]["credential_types"] == ["oauth2"]
    assert "chat:write" in providers["slack"]["oauth2_scopes"]
    assert providers["smtp"]["credential_types"] == ["user_password"]
    assert providers["github"]["oauth2_available"] is False  # no client configured


@pytest.mark.django_db
def test_it_stores_a_user_password_credential_with_its_own_server(
    owner_client: APIClient, owner: User, settings
) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = ["127.0.0.1:2525", "127.0.0.1:8888"]
    response = _create(
        owner_client,
        provider="smtp",
        credential_type="user_password",
        username="alice@example.com",
        password=PASSWORD,
        base_url="smtp://127.0.0.1:2525",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["credential_type"], body["username"], body["status"]) == (
        "user_password",
        "alice@example.com",
        "active",
    )
    assert PASSWORD not in response.content.decode()
    row = Credential.objects.get(pk=body["id"])
    assert PASSWORD not in row.encrypted_api_key
    resolved = credential_resolve(user_id=owner.pk, provider="smtp")
    assert (resolved.username, resolved.api_key, resolved.base_url) == (
        "alice@example.com",
        PASSWORD,
        "smtp://127.0.0.1:2525",
    )


@pytest.mark.django_db
def test_it_stores_host_headers_encrypted_and_never_shows_them(
    owner_client: APIClient, owner: User, settings
) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = ["127.0.0.1:2525", "127.0.0.1:8888"]
    response = _create(
        owner_client,
        provider="searxng",
        credential_type="host_headers",
        base_url="http://127.0.0.1:8888",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 201, response.content
    assert TOKEN not in response.content.decode()
    assert TOKEN not in Credential.objects.get().encrypted_extra
    listed = owner_client.get("/api/integrations/credentials").content.decode()
    assert TOKEN not in listed
    resolved = credential_resolve(user_id=owner.pk, provider="searxng")
    assert resolved.headers == {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"provider": "google", "credential_type": "api_key", "api_key": "k"}, "takes oauth2"),
        ({"provider": "github", "credential_type": "oauth2"}, "oauth2"),
        ({"provider": "smtp", "credential_type": "user_password", "password": "x"}, "username"),
        ({"provider": "searxng", "credential_type": "host_headers", "headers": {}}, "headers"),
        (
            {"provider": "searxng", "credential_type": "host_headers", "headers": {"a b": "c"}},
            "not a valid header",
        ),
        (
            {
                "provider": "smtp",
                "credential_type": "user_password",
                "username": "a",
                "password": "b",
                "base_url": "smtp://10.0.0.1:25",
            },
            "private address",
        ),
    ],
)
def test_it_refuses_a_type_or_field_the_provider_does_not_take(
    owner_client: APIClient, body: dict, problem: str
) -> None:
    response = _create(owner_client, **body)
    assert response.status_code == 400, response.content
    assert problem in response.json()["error"]["message"]
    assert not Credential.objects.exists()
