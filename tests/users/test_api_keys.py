from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from apps.users.models import APIKey, User
from apps.users.services import api_key_create

pytestmark = pytest.mark.django_db
ALL_PERMISSIONS = [choice.value for choice in APIKey.Permission]


def _key_client(plain_key: str, *, header: str = "bearer") -> APIClient:
    if header == "bearer":
        return APIClient(HTTP_AUTHORIZATION=f"Bearer {plain_key}")
    return APIClient(HTTP_X_API_KEY=plain_key)


def test_it_creates_a_key_shown_once_and_stores_only_its_hash(owner_client: APIClient) -> None:
    response = owner_client.post(
        "/api/user/api-keys",
        {"name": "ci", "permissions": ["IDENTITY", "READ_GRAPH"]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    plain = body["key"]
    assert plain.startswith("agpt_")
    assert len(plain) > 40
    stored = APIKey.objects.get(pk=body["api_key"]["id"])
    assert plain not in (stored.key_hash, stored.head, stored.tail)
    assert plain.startswith(stored.head)
    assert plain.endswith(stored.tail)
    listed = owner_client.get("/api/user/api-keys").json()
    assert listed["total"] == 1
    assert plain not in str(listed)
    detail = owner_client.get(f"/api/user/api-keys/{stored.pk}").json()
    assert "key" not in detail
    assert plain not in str(detail)


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_it_authenticates_by_either_header(owner: User, header: str) -> None:
    _, plain = api_key_create(user=owner, name="k", permissions=["IDENTITY"])
    response = _key_client(plain, header=header).get("/api/user")
    assert response.status_code == 200
    assert response.json()["email"] == owner.email


def test_it_rejects_an_unknown_key(db) -> None:
    response = _key_client("agpt_" + "x" * 43).get("/api/user")
    assert response.status_code == 401
    assert response.json()["error"]["error_code"] == "AUTHENTICATION_FAILED"


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_it_rejects_suspended_and_revoked_keys(
    owner: User, owner_client: APIClient, action: str
) -> None:
    api_key, plain = api_key_create(user=owner, name="k", permissions=["IDENTITY"])
    client = _key_client(plain)
    assert client.get("/api/user").status_code == 200
    if action == "suspend":
        assert (
            owner_client.post(f"/api/user/api-keys/{api_key.pk}/suspend").json()["status"]
            == "SUSPENDED"
        )
    else:
        assert owner_client.delete(f"/api/user/api-keys/{api_key.pk}").json()["status"] == "REVOKED"
    assert client.get("/api/user").status_code == 401


def test_a_suspended_key_can_be_activated_but_a_revoked_one_cannot(
    owner: User, owner_client: APIClient
) -> None:
    api_key, plain = api_key_create(user=owner, name="k", permissions=["IDENTITY"])
    owner_client.post(f"/api/user/api-keys/{api_key.pk}/suspend")
    assert (
        owner_client.post(f"/api/user/api-keys/{api_key.pk}/activate").json()["status"] == "ACTIVE"
    )
    assert _key_client(plain).get("/api/user").status_code == 200
    owner_client.delete(f"/api/user/api-keys/{api_key.pk}")
    response = owner_client.post(f"/api/user/api-keys/{api_key.pk}/activate")
    assert response.status_code == 409
    assert response.json()["error"]["error_code"] == "CONFLICT"
    assert _key_client(plain).get("/api/user").status_code == 401


def test_it_changes_permissions(owner: User, owner_client: APIClient) -> None:
    api_key, plain = api_key_create(user=owner, name="k", permissions=["READ_GRAPH"])
    assert _key_client(plain).get("/api/user").status_code == 403
    response = owner_client.put(
        f"/api/user/api-keys/{api_key.pk}/permissions", {"permissions": ["IDENTITY"]}, format="json"
    )
    assert response.json()["permissions"] == ["IDENTITY"]
    assert _key_client(plain).get("/api/user").status_code == 200


@pytest.mark.parametrize(
    "payload",
    [{"permissions": []}, {"permissions": ["FLY"]}, {"permissions": "IDENTITY"}, {}],
)
def test_it_rejects_bad_permission_lists(
    owner: User, owner_client: APIClient, payload: dict
) -> None:
    api_key, _ = api_key_create(user=owner, name="k", permissions=["IDENTITY"])
    response = owner_client.put(
        f"/api/user/api-keys/{api_key.pk}/permissions", payload, format="json"
    )
    assert response.status_code == 400
    api_key.refresh_from_db()
    assert api_key.permissions == ["IDENTITY"]


def test_another_users_key_is_not_found_on_every_endpoint(
    owner: User, other_user: User, owner_client: APIClient
) -> None:
    theirs, plain = api_key_create(user=other_user, name="theirs", permissions=["IDENTITY"])
    base = f"/api/user/api-keys/{theirs.pk}"
    responses = [
        owner_client.get(base),
        owner_client.delete(base),
        owner_client.post(f"{base}/suspend"),
        owner_client.post(f"{base}/activate"),
        owner_client.put(f"{base}/permissions", {"permissions": ["IDENTITY"]}, format="json"),
    ]
    assert [r.status_code for r in responses] == [404] * 5
    assert {r.json()["error"]["error_code"] for r in responses} == {"NOT_FOUND"}
    assert owner_client.get("/api/user/api-keys").json()["total"] == 0
    theirs.refresh_from_db()
    assert theirs.status == APIKey.Status.ACTIVE
    assert _key_client(plain).get("/api/user").status_code == 200


def test_an_api_key_cannot_manage_api_keys(owner: User) -> None:
    _, plain = api_key_create(user=owner, name="all", permissions=ALL_PERMISSIONS)
    client = _key_client(plain)
    response = client.post(
        "/api/user/api-keys", {"name": "x", "permissions": ["IDENTITY"]}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["error_code"] == "PERMISSION_DENIED"
    assert client.get("/api/user/api-keys").status_code == 403
    assert APIKey.objects.count() == 1


@pytest.mark.parametrize("permission", ALL_PERMISSIONS)
def test_each_permission_admits_only_its_own_views(owner: User, permission: str) -> None:
    class ProtectedView(APIView):
        api_key_permission = permission

        def get(self, request):
            return Response({"ok": True})

    view = ProtectedView.as_view()
    _, granted = api_key_create(user=owner, name="granted", permissions=[permission])
    others = [p for p in ALL_PERMISSIONS if p != permission]
    _, lacking = api_key_create(user=owner, name="lacking", permissions=others)
    factory = RequestFactory()
    assert view(factory.get("/", HTTP_AUTHORIZATION=f"Bearer {granted}")).status_code == 200
    denied = view(factory.get("/", HTTP_X_API_KEY=lacking))
    denied.render()
    assert denied.status_code == 403
    assert permission in denied.data["error"]["message"]


def test_it_records_last_use_without_writing_on_every_request(
    owner: User, django_assert_num_queries
) -> None:
    api_key, plain = api_key_create(user=owner, name="k", permissions=["IDENTITY"])
    client = _key_client(plain)
    client.get("/api/user")
    api_key.refresh_from_db()
    first_use = api_key.last_used_at
    assert first_use is not None
    with django_assert_num_queries(1):  # the key with its user; no UPDATE within the interval
        assert client.get("/api/user").status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at == first_use
    APIKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now() - timedelta(minutes=5))
    client.get("/api/user")
    api_key.refresh_from_db()
    assert api_key.last_used_at > first_use
