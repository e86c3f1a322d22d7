"""apps.common.rows: instances read from plain SQL equal what the ORM loads, field by field,
on either database (JSON, UUIDs, datetimes and booleans converted as the ORM converts them)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.common.rows import Columns
from apps.users.models import APIKey, User
from apps.users.services import api_key_authenticate, api_key_create


def _fields(instance: object, model: type) -> dict[str, object]:
    return {
        field.attname: getattr(instance, field.attname) for field in model._meta.concrete_fields
    }


@pytest.mark.django_db
def test_an_instance_read_from_a_row_equals_the_orms(owner: User) -> None:
    owner.metadata = {"team": ["a", {"b": 1}]}
    owner.save(update_fields=["metadata"])
    api_key, _ = api_key_create(user=owner, name="k", permissions=["EXECUTE_GRAPH", "READ_GRAPH"])
    APIKey.objects.filter(pk=api_key.pk).update(revoked_at=timezone.now() - timedelta(days=1))
    keys, users = Columns(APIKey, "k"), Columns(User, "u")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {keys.sql}, {users.sql} FROM {APIKey._meta.db_table} k"  # noqa: S608
            f" JOIN {User._meta.db_table} u ON u.id = k.user_id WHERE k.id = %s",
            [APIKey._meta.pk.get_db_prep_value(api_key.pk, connection)],
        )
        row = cursor.fetchone()
    read_key, read_user = keys.read(row[: len(keys)]), users.read(row[len(keys) :])

    assert _fields(read_key, APIKey) == _fields(APIKey.objects.get(pk=api_key.pk), APIKey)
    assert _fields(read_user, User) == _fields(User.objects.get(pk=owner.pk), User)
    assert read_key.permissions == ["EXECUTE_GRAPH", "READ_GRAPH"]
    assert read_user.metadata == {"team": ["a", {"b": 1}]}
    assert not read_key._state.adding  # saved as an UPDATE, like any loaded instance


@pytest.mark.django_db
def test_the_key_comes_with_its_user_and_not_for_an_inactive_one(owner: User) -> None:
    api_key, plain = api_key_create(user=owner, name="k", permissions=["IDENTITY"])
    found = api_key_authenticate(plain_key=plain)
    assert found is not None
    assert found.pk == api_key.pk
    assert _fields(found.user, User) == _fields(User.objects.get(pk=owner.pk), User)
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert api_key_authenticate(plain_key=plain) is None


@pytest.mark.django_db
def test_an_inserted_instance_reads_back_as_the_orm_saves_it(owner: User) -> None:
    """Columns.insert writes what save(force_insert=True) writes: defaults, auto_now_add, JSON,
    foreign keys, on either database."""
    fields = {"user": owner, "name": "k", "head": "agpt_abcd", "tail": "wxyz", "key_hash": "h"}
    fields["permissions"] = ["READ_GRAPH", {"nested": [1, "two"]}]
    saved, inserted = APIKey(**fields), APIKey(**fields | {"key_hash": "i"})
    saved.save(force_insert=True)
    Columns(APIKey, "k").insert(inserted)

    assert not inserted._state.adding
    assert inserted.created_at is not None
    got = _fields(APIKey.objects.get(pk=inserted.pk), APIKey)
    assert got == _fields(inserted, APIKey)
    expected = _fields(APIKey.objects.get(pk=saved.pk), APIKey)
    assert {k: v for k, v in got.items() if k not in ("id", "created_at", "key_hash")} == {
        k: v for k, v in expected.items() if k not in ("id", "created_at", "key_hash")
    }
