from unittest.mock import patch

import pytest
from redis import Redis
from rest_framework.test import APIClient

from apps.common.throttling import PrincipalRateThrottle
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
        "signin_account": "5/minute",
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


def test_it_limits_staff_like_every_user(staff: User, tight_limits) -> None:
    client = APIClient()
    client.force_authenticate(staff)
    assert [client.get("/api/user").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_it_limits_sign_in_per_account_across_ips(owner: User, settings) -> None:
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "signin_account": "2/minute"}
    wrong = {"email": "Alice@Example.com", "password": "wrong"}
    statuses = [
        APIClient(REMOTE_ADDR=f"203.0.113.{n}").post("/api/auth/token", wrong, format="json")
        for n in range(3)
    ]
    assert [r.status_code for r in statuses] == [401, 401, 429]
    assert statuses[-1].json()["error"]["error_code"] == "RATE_LIMITED"
    right = {"email": "alice@example.com", "password": PASSWORD}
    blocked = APIClient(REMOTE_ADDR="198.51.100.7").post("/api/auth/token", right, format="json")
    assert blocked.status_code == 429  # the account's budget, whatever the address
    other = APIClient().post(
        "/api/auth/token", {"email": "bob@example.com", "password": "x"}, format="json"
    )
    assert other.status_code == 401


def test_it_limits_the_sign_in_page_per_ip_and_per_account(owner: User, tight_limits) -> None:
    from django.test import Client

    page = Client(REMOTE_ADDR="203.0.113.9")
    tries = [
        page.post("/login", {"username": "alice@example.com", "password": "wrong"})
        for _ in range(3)
    ]
    assert [r.status_code for r in tries] == [200, 200, 429]
    assert "Too many sign-in attempts" in tries[-1].content.decode()
    assert int(tries[-1]["Retry-After"]) >= 1
    # The right password from the same address waits too: the attempt is not even tried.
    right = page.post("/login", {"username": "alice@example.com", "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in page.session
    fresh_ip = Client(REMOTE_ADDR="198.51.100.8")
    right = {"username": "alice@example.com", "password": PASSWORD}
    assert fresh_ip.post("/login", right).status_code == 302


def test_the_window_slides_as_drf_s_log_does_at_any_budget(owner: User, settings) -> None:
    """Each request's time is logged (in Redis, not re-read whole per request): a request is
    refused while the last minute holds the budget, told to wait until the oldest leaves, and
    let through once it has; a large budget costs the same per request as a small one."""
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "principal": "3/minute"}
    _, key = api_key_create(user=owner, name="clock", permissions=["IDENTITY"])
    client = APIClient(HTTP_X_API_KEY=key)
    now = [1000.0]
    with patch.object(PrincipalRateThrottle, "timer", lambda self: now[0]):
        for moment in (1000.0, 1020.0, 1040.0):
            now[0] = moment
            assert client.get("/api/user").status_code == 200
        now[0] = 1050.0
        refused = client.get("/api/user")
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) == 10  # the request at 1000 leaves the window at 1060
        now[0] = 1060.5
        assert client.get("/api/user").status_code == 200  # one slot freed, and taken
        assert client.get("/api/user").status_code == 429
        now[0] = 1080.5
        assert client.get("/api/user").status_code == 200


def test_the_throttle_keeps_one_redis_client(owner: User, tight_limits) -> None:
    """Django's cache would build a client per call; the throttle asks it for its pool."""
    client = APIClient()
    client.force_authenticate(owner)
    client.get("/api/credits")  # the first request makes the client, if none was made yet
    with patch.object(Redis, "__init__", side_effect=AssertionError("a new client")):
        statuses = [client.get("/api/credits").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
