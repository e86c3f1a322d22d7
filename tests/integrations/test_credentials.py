"""Provider credentials: encrypted at rest, write-only in the API, never logged (SPEC §12)."""

import logging
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings
from rest_framework.test import APIClient

from apps.integrations import checks, crypto, services
from apps.integrations.models import Credential
from apps.integrations.selectors import CredentialUnusable, credential_resolve
from apps.users.models import User
from apps.users.services import api_key_create
from tests.processes import ROOT, platform_env

SECRET = "sk-alice-very-secret-0123456789abcdef"


def _create(client: APIClient, **fields: str):
    body = {"provider": "openai", "title": "My OpenAI", "api_key": SECRET, **fields}
    return client.post("/api/integrations/credentials", body, format="json")


@pytest.mark.django_db
def test_it_stores_the_key_encrypted_and_never_shows_it(
    owner_client: APIClient, owner: User, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    response = _create(owner_client)
    assert response.status_code == 201, response.content
    assert SECRET not in response.content.decode()
    assert set(response.json()) == {
        "id",
        "provider",
        "credential_type",
        "title",
        "username",
        "base_url",
        "scopes",
        "expires_at",
        "status",
        "created_at",
        "updated_at",
    }
    row = Credential.objects.get(pk=response.json()["id"])
    assert SECRET not in row.encrypted_api_key
    assert row.encrypted_api_key.startswith("gAAAA")  # a Fernet token
    assert crypto.decrypt(row.encrypted_api_key) == SECRET
    listed = owner_client.get("/api/integrations/credentials")
    detail = owner_client.get(f"/api/integrations/credentials/{row.pk}")
    assert listed.json()["total"] == 1
    assert detail.json()["title"] == "My OpenAI"
    for answer in (listed, detail, owner_client.get("/api/integrations/providers")):
        assert SECRET not in answer.content.decode()
    assert "stored for user" in caplog.text  # the service does log the event...
    assert SECRET not in caplog.text  # ...but never the key


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "1 to 1000 visible ASCII"),
        ("k" * 1001, "no more than 1000 characters"),
        ("sk-ünïcode-key", "visible ASCII"),
        ("sk key with spaces", "visible ASCII"),
        ("sk-\tx", "visible ASCII"),
    ],
)
def test_a_key_that_cannot_travel_in_an_http_header_is_refused(
    owner_client: APIClient, key: str, problem: str
) -> None:
    response = _create(owner_client, api_key=key)
    assert response.status_code == 400, response.content
    assert problem in response.json()["error"]["message"]
    assert not Credential.objects.exists()


@pytest.mark.django_db
def test_another_users_credential_is_not_found(owner_client: APIClient, other_user: User) -> None:
    theirs = services.credential_create(
        user=other_user, provider="openai", title="Bob's", api_key="sk-bob"
    )
    assert owner_client.get(f"/api/integrations/credentials/{theirs.pk}").status_code == 404
    assert owner_client.delete(f"/api/integrations/credentials/{theirs.pk}").status_code == 404
    assert Credential.objects.filter(pk=theirs.pk).exists()
    assert owner_client.get("/api/integrations/credentials").json()["total"] == 0


@pytest.mark.django_db
def test_it_deletes_a_credential(owner_client: APIClient) -> None:
    created = _create(owner_client).json()
    assert owner_client.delete(f"/api/integrations/credentials/{created['id']}").status_code == 204
    assert not Credential.objects.exists()


@pytest.mark.django_db
def test_bad_input_gets_a_clear_error(owner_client: APIClient) -> None:
    unknown = _create(owner_client, provider="acme")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["error_code"] == "VALIDATION_ERROR"
    empty = _create(owner_client, api_key="   ")
    assert empty.status_code == 400
    assert not Credential.objects.exists()


@pytest.mark.django_db
def test_a_base_url_on_a_private_address_is_refused_unless_allowed(
    owner_client: APIClient, settings
) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = []
    refused = _create(owner_client, base_url="http://127.0.0.1:11434/v1")
    assert refused.status_code == 400
    assert "loopback" in refused.json()["error"]["message"]
    settings.BLOCK_HTTP_ALLOWED_HOSTS = ["127.0.0.1:11434"]
    allowed = _create(owner_client, base_url="http://127.0.0.1:11434/v1")
    assert allowed.status_code == 201
    assert allowed.json()["base_url"] == "http://127.0.0.1:11434/v1"


@pytest.mark.django_db
def test_api_keys_need_the_manage_integrations_permission(owner: User) -> None:
    _, allowed = api_key_create(user=owner, name="ok", permissions=["MANAGE_INTEGRATIONS"])
    _, denied = api_key_create(user=owner, name="no", permissions=["READ_GRAPH"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {allowed}")
    assert client.get("/api/integrations/credentials").status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {denied}")
    assert client.get("/api/integrations/credentials").status_code == 403


@pytest.mark.django_db
def test_resolution_prefers_the_selected_then_the_newest_then_the_platform(
    owner: User, settings
) -> None:
    settings.OPENAI_API_KEY = "sk-platform"
    settings.OPENAI_BASE_URL = "https://llm.example.com/v1"
    platform = credential_resolve(user_id=owner.pk, provider="openai")
    assert (platform.id, platform.api_key, platform.trusted) == (None, "sk-platform", True)
    older = services.credential_create(user=owner, provider="openai", title="a", api_key="sk-1")
    services.credential_create(user=owner, provider="openai", title="b", api_key="sk-2")
    assert credential_resolve(user_id=owner.pk, provider="openai").api_key == "sk-2"
    chosen = credential_resolve(user_id=owner.pk, provider="openai", credential_id=str(older.pk))
    assert (chosen.api_key, chosen.base_url, chosen.trusted) == (
        "sk-1",
        "https://api.openai.com/v1",
        False,
    )
    missing = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(CredentialUnusable, match="No credential"):
        credential_resolve(user_id=owner.pk, provider="openai", credential_id=missing)
    settings.OPENAI_API_KEY = ""
    Credential.objects.all().delete()
    assert credential_resolve(user_id=owner.pk, provider="openai") is None


@pytest.mark.django_db
def test_keys_rotate_without_losing_secrets(owner: User, settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    credential = services.credential_create(
        user=owner, provider="openai", title="a", api_key=SECRET
    )
    settings.ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(Credential.objects.get().encrypted_api_key) == SECRET
    assert services.credentials_rotate() == 1
    settings.ENCRYPTION_KEYS = [new]
    credential.refresh_from_db()
    assert crypto.decrypt(credential.encrypted_api_key) == SECRET
    settings.ENCRYPTION_KEYS = [old]
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(credential.encrypted_api_key)


def test_production_refuses_a_missing_or_malformed_encryption_key() -> None:
    with override_settings(ENCRYPTION_KEYS=[]):
        assert [error.id for error in checks.encryption_key(None)] == ["integrations.E001"]
    with override_settings(ENCRYPTION_KEYS=[Fernet.generate_key().decode(), "not-a-key"]):
        assert [error.id for error in checks.encryption_key(None)] == ["integrations.E002"]
    with override_settings(ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        assert checks.encryption_key(None) == []


def test_the_settings_refuse_to_derive_a_key_without_debug() -> None:
    env = {**platform_env(), "DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "a.example"}
    env.pop("ENCRYPTION_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "integrations.E001" in result.stderr
