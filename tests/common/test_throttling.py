import pytest
from rest_framework.test import APIClient

from apps.users.models import User
from apps.users.services import api_key_create
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_limits(settings):
    settings.API_RATE_LIMITS = {
        "principal": "3/minute",
        "anonymous": "3/minute",
        "auth": "2/minute",
    }


def test_auth_endpoints_are_limited_per_ip(
    api_client: APIClient, owner: User, tight_limits
) -> None:
    credentials = {"email": "alice@example.com", "password": "wrong"}
    for _ in range(2):
        assert api_client.post("/api/auth/token", credentials, format="json").status_code == 401
    response = api_client.post(
        "/api/auth/token", {"email": "alice@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["error_code"] == "RATE_LIMITED"
    assert int(response["Retry-After"]) >= 1
    assert error["details"]["retry_after"] == int(response["Retry-After"])


def test_each_api_key_has_its_own_budget(owner: User, tight_limits) -> None:
    _, first = api_key_create(user=owner, name="one", permissions=["IDENTITY"])
    _, second = api_key_create(user=owner, name="two", permissions=["IDENTITY"])
    client_one = APIClient(HTTP_AUTHORIZATION=f"Bearer {first}")
    assert [client_one.get("/api/user").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert APIClient(HTTP_X_API_KEY=second).get("/api/user").status_code == 200


def test_users_are_limited_independently(
    owner_client: APIClient,
    other_user: User,
    tight_limits,
) -> None:
    assert [owner_client.get("/api/user").status_code for _ in range(4)] == [200, 200, 200, 429]
    other = APIClient()
    other.force_authenticate(other_user)
    assert other.get("/api/user").status_code == 200


def test_a_forged_forwarded_for_header_gets_no_fresh_budget(
    api_client: APIClient, owner: User, tight_limits
) -> None:
    credentials = {"email": "alice@example.com", "password": "wrong"}
    statuses = [
        api_client.post(
            "/api/auth/token", credentials, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        ).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_staff_are_not_rate_limited(staff: User, tight_limits) -> None:
    client = APIClient()
    client.force_authenticate(staff)
    assert [client.get("/api/user").status_code for _ in range(5)] == [200] * 5
