"""API-key hashes are keyed (HMAC-SHA256 with API_KEY_PEPPER, SPEC §3); keys stored before the
pepper keep working and are rehashed on their first successful use."""

import hashlib
import hmac

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from apps.users.models import APIKey
from apps.users.services import api_key_authenticate, api_key_create


def _hmac(pepper: str, plain: str) -> str:
    return hmac.new(pepper.encode(), plain.encode(), hashlib.sha256).hexdigest()


@pytest.mark.django_db
def test_it_stores_a_keyed_hash_of_a_new_key(owner, settings) -> None:
    settings.API_KEY_PEPPER = "pepper-one"
    api_key, plain = api_key_create(user=owner, name="k", permissions=["IDENTITY"])
    stored = APIKey.objects.get(pk=api_key.pk)
    assert stored.hash_algorithm == "hmac-sha256"
    assert stored.key_hash == _hmac("pepper-one", plain)
    assert stored.key_hash != hashlib.sha256(plain.encode()).hexdigest()
    assert api_key_authenticate(plain_key=plain) == stored
    settings.API_KEY_PEPPER = "another-pepper"  # the table alone does not check a key
    assert api_key_authenticate(plain_key=plain) is None


@pytest.mark.django_db
def test_it_rehashes_a_legacy_key_on_its_first_use(owner, settings) -> None:
    api_key, plain = api_key_create(user=owner, name="old", permissions=["IDENTITY"])
    legacy = hashlib.sha256(plain.encode()).hexdigest()
    APIKey.objects.filter(pk=api_key.pk).update(key_hash=legacy, hash_algorithm="sha256")
    # A legacy row is found only by its plain SHA-256, never by a keyed hash that equals it.
    assert api_key_authenticate(plain_key="agpt_" + "x" * 43) is None
    response = APIClient().get("/api/user", HTTP_X_API_KEY=plain)
    assert response.status_code == 200, response.content
    stored = APIKey.objects.get(pk=api_key.pk)
    assert (stored.hash_algorithm, stored.key_hash) == (
        "hmac-sha256",
        _hmac(settings.API_KEY_PEPPER, plain),
    )
    assert api_key_authenticate(plain_key=plain) == stored


@pytest.mark.django_db
def test_it_refuses_a_revoked_legacy_key(owner) -> None:
    api_key, plain = api_key_create(user=owner, name="old", permissions=["IDENTITY"])
    APIKey.objects.filter(pk=api_key.pk).update(
        key_hash=hashlib.sha256(plain.encode()).hexdigest(),
        hash_algorithm="sha256",
        status=APIKey.Status.REVOKED,
    )
    assert api_key_authenticate(plain_key=plain) is None
    assert APIKey.objects.get(pk=api_key.pk).hash_algorithm == "sha256"


@pytest.mark.django_db(transaction=True)
def test_it_migrates_existing_keys_so_they_keep_working(owner) -> None:
    api_key, plain = api_key_create(user=owner, name="before", permissions=["IDENTITY"])
    executor = MigrationExecutor(connection)
    executor.migrate([("users", "0001_initial")])
    table = APIKey._meta.db_table
    with connection.cursor() as cursor:  # the row as the old code stored it
        cursor.execute(
            f"UPDATE {table} SET key_hash = %s WHERE id = %s",  # noqa: S608 - fixed names
            [hashlib.sha256(plain.encode()).hexdigest(), api_key.pk.hex],
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert APIKey.objects.get(pk=api_key.pk).hash_algorithm == "sha256"
    assert api_key_authenticate(plain_key=plain) is not None
    assert APIKey.objects.get(pk=api_key.pk).hash_algorithm == "hmac-sha256"
