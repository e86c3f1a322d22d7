"""`Idempotency-Key` on run starts (SPEC §17): one run per (user, key) for 24 hours, race-proof
by a unique constraint; the same body answers the first run, another body is a 422, a start
still in flight is a 409, a bad key is a 400."""

import threading
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.executions import idempotency
from apps.executions.models import GraphExecution, IdempotencyKey
from apps.users.models import User
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db(transaction=True)


def _graph(client: APIClient) -> dict:
    response = client.post("/api/graphs", echo_graph(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _execute(client: APIClient, graph: dict, key: str | None, topic: str = "otters"):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": topic}}, format="json", **headers
    )


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert set(body["error"]) == {
        "error_code",
        "message",
        "severity",
        "category",
        "details",
        "timestamp",
    }
    assert body["error"]["error_code"] == code
    return body["error"]


def test_the_same_key_and_body_answer_the_first_run(owner_client: APIClient) -> None:
    graph = _graph(owner_client)
    first = _execute(owner_client, graph, "order-1")
    assert first.status_code == 200, first.content
    assert "Idempotent-Replayed" not in first.headers
    again = _execute(owner_client, graph, "order-1")
    assert again.status_code == 200, again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    # The body's spacing does not make it another body.
    reordered = owner_client.post(
        f"/api/graphs/{graph['id']}/execute",
        '{ "inputs" :\n {"topic":"otters"} }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="order-1",
    )
    assert reordered.status_code == 200, reordered.content
    assert reordered.json()["id"] == first.json()["id"]
    assert GraphExecution.objects.filter(graph_id=graph["id"]).count() == 1
    row = IdempotencyKey.objects.get(key="order-1")
    assert row.state == "done"
    assert str(row.graph_execution_id) == first.json()["id"]
    # Without a key every request starts a run; another key is another run.
    assert _execute(owner_client, graph, None).status_code == 200
    assert _execute(owner_client, graph, "order-2").json()["id"] != first.json()["id"]
    assert GraphExecution.objects.filter(graph_id=graph["id"]).count() == 3


def test_the_same_key_with_another_body_is_a_422(owner_client: APIClient) -> None:
    graph = _graph(owner_client)
    assert _execute(owner_client, graph, "k").status_code == 200
    error = _error(
        _execute(owner_client, graph, "k", topic="beavers"), 422, "IDEMPOTENCY_KEY_REUSED"
    )
    assert error["details"] == {"idempotency_key": "k"}
    # Another endpoint (the version's) with the key is another request too.
    other = owner_client.post(
        f"/api/graphs/{graph['id']}/execute/1",
        {"inputs": {"topic": "otters"}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    _error(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert GraphExecution.objects.filter(graph_id=graph["id"]).count() == 1


def test_a_first_request_still_in_flight_is_a_409_until_it_is_given_up(
    owner: User, owner_client: APIClient, settings
) -> None:
    graph = _graph(owner_client)
    path = f"/api/graphs/{graph['id']}/execute"
    digest = idempotency.request_hash(
        method="POST", path=path, query={}, body={"inputs": {"topic": "otters"}}
    )
    row = IdempotencyKey.objects.create(
        user=owner, key="busy", request_hash=digest, created_at=timezone.now()
    )
    _error(_execute(owner_client, graph, "busy"), 409, "CONFLICT")
    assert not GraphExecution.objects.filter(graph_id=graph["id"]).exists()
    # A first request that never answered (its process died) gives the key up.
    IdempotencyKey.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_SECONDS + 1)
    )
    taken = _execute(owner_client, graph, "busy")
    assert taken.status_code == 200, taken.content
    assert IdempotencyKey.objects.get(key="busy").state == "done"


@pytest.mark.parametrize(
    ("key", "what"), [("", "empty"), ("   ", "empty"), ("x" * 256, "256 characters")]
)
def test_an_empty_or_too_long_key_is_a_400(owner_client: APIClient, key: str, what: str) -> None:
    graph = _graph(owner_client)
    error = _error(_execute(owner_client, graph, key), 400, "VALIDATION_ERROR")
    assert error["details"] == {"fields": {"Idempotency-Key": what}}
    assert not GraphExecution.objects.exists()
    assert _execute(owner_client, graph, "x" * 255).status_code == 200


def test_a_start_that_fails_frees_the_key(owner_client: APIClient, owner: User) -> None:
    graph = _graph(owner_client)
    bad = owner_client.post(
        f"/api/graphs/{graph['id']}/execute",
        {"inputs": {"topic": "otters"}, "credentials_inputs": {"nope": "x" * 10}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="retry-me",
    )
    assert bad.status_code == 400, bad.content
    assert not IdempotencyKey.objects.filter(key="retry-me").exists()
    assert _execute(owner_client, graph, "retry-me").status_code == 200


def test_keys_are_per_user_and_expire_after_24_hours(
    owner_client: APIClient, other_user: User
) -> None:
    graph = _graph(owner_client)
    first = _execute(owner_client, graph, "shared-key").json()
    other = APIClient()
    other.force_authenticate(other_user)
    mine = _execute(other, _graph(other), "shared-key")
    assert mine.status_code == 200
    assert mine.json()["id"] != first["id"]
    # The beat job removes keys older than 24 hours, and only those.
    IdempotencyKey.objects.filter(user__email=other_user.email).update(
        created_at=timezone.now() - timedelta(hours=24, seconds=1)
    )
    assert idempotency.idempotency_keys_cleanup() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["shared-key"]
    # A key past 24 hours (not yet cleaned up) starts a new run.
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = _execute(owner_client, graph, "shared-key")
    assert again.status_code == 200
    assert again.json()["id"] != first["id"]


def test_a_preset_start_is_idempotent_too(owner_client: APIClient) -> None:
    graph = _graph(owner_client)
    preset = owner_client.post(
        "/api/presets",
        {"name": "P", "graph_id": graph["id"], "graph_version": 1, "inputs": {"topic": "x"}},
        format="json",
    )
    assert preset.status_code == 201, preset.content
    url = f"/api/presets/{preset.json()['id']}/execute"
    first = owner_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="p")
    again = owner_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="p")
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    other = owner_client.post(
        url, {"inputs": {"topic": "y"}}, format="json", HTTP_IDEMPOTENCY_KEY="p"
    )
    _error(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert GraphExecution.objects.count() == 1


def test_fifty_concurrent_requests_with_one_key_start_exactly_one_run(
    asgi_server, owner: User, owner_client: APIClient
) -> None:
    graph = _graph(owner_client)
    url = f"{asgi_server.url}/api/graphs/{graph['id']}/execute"
    headers = {
        "Authorization": f"Bearer {AccessToken.for_user(owner)}",
        "Idempotency-Key": "fifty",
    }
    barrier = threading.Barrier(50)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def send() -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            response = client.post(url, json={"inputs": {"topic": "otters"}}, headers=headers)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=send) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(response.status_code for response in results)
    assert len(results) == 50
    assert set(statuses) <= {200, 409}, statuses
    assert GraphExecution.objects.filter(graph_id=graph["id"]).count() == 1
    run = GraphExecution.objects.get(graph_id=graph["id"])
    started = [response.json()["id"] for response in results if response.status_code == 200]
    assert started, statuses
    assert set(started) == {str(run.pk)}
    for response in results:
        if response.status_code == 409:
            assert response.json()["error"]["error_code"] == "CONFLICT"
    # Once it answered, every retry gets that run.
    with httpx.Client(timeout=30) as client:
        retry = client.post(url, json={"inputs": {"topic": "otters"}}, headers=headers)
    assert retry.status_code == 200
    assert retry.json()["id"] == str(run.pk)
    assert retry.headers["Idempotent-Replayed"] == "true"
