import pytest
from rest_framework.test import APIClient

from apps.users.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _assert_envelope(response, status: int, error_code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert body["error"]["error_code"] == error_code
    assert set(body["error"]) == {
        "error_code",
        "message",
        "severity",
        "category",
        "details",
        "timestamp",
    }
    return body["error"]


def test_it_registers_and_returns_working_tokens(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/auth/register",
        {
            "email": "Dana@Example.com",
            "password": PASSWORD,
            "name": "Dana",
            "timezone": "Europe/Berlin",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "dana@example.com"
    assert body["user"]["timezone"] == "Europe/Berlin"
    assert body["user"]["notification_preferences"]["max_emails_per_day"] == 3
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert client.get("/api/user").json()["email"] == "dana@example.com"


def test_it_refuses_a_taken_email_in_any_case(api_client: APIClient, owner: User) -> None:
    response = api_client.post(
        "/api/auth/register", {"email": "ALICE@example.com", "password": PASSWORD}, format="json"
    )
    _assert_envelope(response, 409, "CONFLICT")
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "eve@example.com", "password": "123"}, "password"),
        ({"email": "eve@example.com", "password": PASSWORD, "timezone": "Mars/Base"}, "timezone"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
    ],
)
def test_it_rejects_bad_registrations(api_client: APIClient, payload: dict, field: str) -> None:
    error = _assert_envelope(
        api_client.post("/api/auth/register", payload, format="json"), 400, "VALIDATION_ERROR"
    )
    assert field in error["details"]["fields"]
    assert not User.objects.filter(email="eve@example.com").exists()


def test_it_issues_jwt_for_good_credentials(api_client: APIClient, owner: User) -> None:
    response = api_client.post(
        "/api/auth/token", {"email": "Alice@Example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    tokens = response.json()
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/user").json()["id"] == str(owner.id)


def test_it_answers_bad_credentials_with_401_envelope(api_client: APIClient, owner: User) -> None:
    response = api_client.post(
        "/api/auth/token", {"email": "alice@example.com", "password": "wrong"}, format="json"
    )
    error = _assert_envelope(response, 401, "AUTHENTICATION_FAILED")
    assert error["category"] == "auth"


def test_it_rejects_a_garbage_bearer_token(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    _assert_envelope(api_client.get("/api/user"), 401, "AUTHENTICATION_FAILED")


def test_it_requires_authentication(api_client: APIClient) -> None:
    _assert_envelope(api_client.get("/api/user"), 401, "AUTHENTICATION_FAILED")


def test_it_rotates_refresh_tokens(api_client: APIClient, owner: User) -> None:
    tokens = api_client.post(
        "/api/auth/token", {"email": "alice@example.com", "password": PASSWORD}, format="json"
    ).json()
    rotated = api_client.post(
        "/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh"] != tokens["refresh"]
    assert (
        APIClient(HTTP_AUTHORIZATION=f"Bearer {new['access']}").get("/api/user").status_code == 200
    )
    # The old refresh token was blacklisted by the rotation.
    replay = api_client.post(
        "/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    _assert_envelope(replay, 401, "AUTHENTICATION_FAILED")


def test_it_updates_profile_and_preferences(owner_client: APIClient, owner: User) -> None:
    response = owner_client.put(
        "/api/user",
        {
            "name": "Alice A.",
            "timezone": "Asia/Tokyo",
            "notification_preferences": {"notify_on_agent_run": False, "max_emails_per_day": 10},
        },
        format="json",
    )
    assert response.status_code == 200
    owner.refresh_from_db()
    assert (owner.name, owner.timezone) == ("Alice A.", "Asia/Tokyo")
    assert owner.notify_on_agent_run is False
    assert owner.max_emails_per_day == 10
    assert owner.notify_on_low_balance is True


def test_it_refuses_an_unknown_timezone_on_update(owner_client: APIClient, owner: User) -> None:
    response = owner_client.put("/api/user", {"timezone": "Nowhere/City"}, format="json")
    _assert_envelope(response, 400, "VALIDATION_ERROR")
    owner.refresh_from_db()
    assert owner.timezone == "UTC"


def test_display_name_falls_back_to_the_email_local_part(db) -> None:
    assert User(email="frank@example.com").display_name == "frank"
    assert User(email="frank@example.com", name="Frank").display_name == "Frank"
