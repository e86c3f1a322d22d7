"""Signed ingress end to end: the API, the run-start service, a real Celery worker."""

import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.common.redis import get_redis
from apps.credits.services import credit_apply
from apps.executions.models import GraphExecution, NodeExecution
from apps.users.models import User
from apps.webhooks.models import Webhook, WebhookCall
from apps.webhooks.services import SEEN_KEY, SIGNATURE_HEADER, webhook_signature
from tests.graphs.graphs import echo_graph
from tests.processes import wait_for
from tests.webhooks.helpers import json_body, signed_headers, webhook_graph

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _runs_settle_before_teardown():
    """A run started by a test must end before the tables are flushed under the worker."""
    yield
    wait_for(
        lambda: not GraphExecution.objects.filter(status__in=["queued", "running"]).exists(),
        timeout=60,
        what="the runs started by the test to end",
    )


def _trigger(client: APIClient, payload: dict | None = None) -> tuple[dict, dict, str]:
    """A graph with a Webhook node, its trigger and a secret (rotated: shown once)."""
    graph = client.post("/api/graphs", payload or webhook_graph(), format="json").json()
    hooks = client.get("/api/webhooks").json()["data"]
    hook = next(h for h in hooks if h["graph_id"] == graph["id"])
    rotated = client.post(f"/api/webhooks/{hook['id']}/secret")
    assert rotated.status_code == 200
    return graph, hook, rotated.json()["secret"]


def _call(hook: dict, body: bytes, headers: dict[str, str], path: str = "") -> object:
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return Client().post(
        f"/api/webhooks/{hook['id']}/ingress{path}",
        body,
        content_type=headers.pop("Content-Type", "application/json"),
        **meta,
    )


def _finished(graph_exec_id: str) -> GraphExecution:
    def done() -> GraphExecution | None:
        execution = GraphExecution.objects.get(pk=graph_exec_id)
        return execution if execution.is_terminal else None

    return wait_for(done, timeout=30, what=f"execution {graph_exec_id} to finish")


def _nothing_written(hook: dict, before: tuple[int, int, int]) -> None:
    assert (
        GraphExecution.objects.count(),
        NodeExecution.objects.count(),
        WebhookCall.objects.count(),
    ) == before
    assert not list(get_redis().scan_iter(SEEN_KEY.format(hook["id"], "*")))
    assert Webhook.objects.get(pk=hook["id"]).last_called_at is None


def _counts() -> tuple[int, int, int]:
    return (
        GraphExecution.objects.count(),
        NodeExecution.objects.count(),
        WebhookCall.objects.count(),
    )


def test_it_starts_a_run_whose_webhook_node_outputs_the_payload(
    worker, owner_client: APIClient
) -> None:
    _, hook, secret = _trigger(owner_client)
    assert hook["ingress_url"].endswith(f"/api/webhooks/{hook['id']}/ingress")
    assert "secret" not in hook
    body = json_body({"ref": "main", "commits": [1, 2]})
    headers = signed_headers(secret, body, **{"X-Event": "push", "Authorization": "Bearer x"})
    response = _call(hook, body, headers, path="?source=ci&tag=a&tag=b")
    assert response.status_code == 202, response.content
    execution = _finished(response.json()["execution_id"])
    assert execution.status == "completed", execution.error_message
    assert execution.outputs == {
        "payload": [
            {
                "body": {"ref": "main", "commits": [1, 2]},
                "headers": {"x-event": "push"},
                "query": {"source": "ci", "tag": ["a", "b"]},
            }
        ]
    }
    # The sender's credentials and the signature never reach the run.
    sent = execution.inputs["webhook"]["headers"]
    assert "authorization" not in sent
    assert SIGNATURE_HEADER.lower() not in sent
    calls = owner_client.get(f"/api/webhooks/{hook['id']}/calls").json()["data"]
    assert [(c["status_code"], c["execution_id"]) for c in calls] == [(202, str(execution.id))]
    assert calls[0]["execution_status"] == "completed"
    assert owner_client.get(f"/api/webhooks/{hook['id']}").json()["last_called_at"]


def test_it_passes_form_bodies_on_as_fields(worker, owner_client: APIClient) -> None:
    _, hook, secret = _trigger(owner_client)
    body = b"name=Alice&topic=otters"
    headers = signed_headers(secret, body, **{"Content-Type": "application/x-www-form-urlencoded"})
    response = _call(hook, body, headers)
    assert response.status_code == 202, response.content
    execution = _finished(response.json()["execution_id"])
    assert execution.outputs["payload"][0]["body"] == {"name": "Alice", "topic": "otters"}


def test_it_refuses_forged_stale_replayed_and_oversized_calls(
    settings, owner_client: APIClient
) -> None:
    settings.WEBHOOK_MAX_BODY_BYTES = 2048
    _, hook, secret = _trigger(owner_client)
    body = json_body({"ref": "main"})
    before = _counts()

    forged = signed_headers("whsec_not-the-secret", body)
    assert _call(hook, body, forged).status_code == 401
    unsigned = _call(hook, body, {})
    assert unsigned.status_code == 401
    assert unsigned.json()["error"]["error_code"] == "AUTHENTICATION_FAILED"
    stale = signed_headers(secret, body, timestamp=int(time.time()) - 3600)
    assert _call(hook, body, stale).status_code == 401
    tampered = signed_headers(secret, body)
    assert _call(hook, json_body({"ref": "evil"}), tampered).status_code == 401
    big = json_body({"blob": "x" * 4096})
    oversized = _call(hook, big, signed_headers(secret, big))
    assert oversized.status_code == 413
    assert oversized.json()["error"]["details"] == {"max_bytes": 2048}
    _nothing_written(hook, before)

    headers = signed_headers(secret, body)
    first = _call(hook, body, dict(headers))
    assert first.status_code == 202, first.content
    after_first = _counts()
    replayed = _call(hook, body, dict(headers))
    assert replayed.status_code == 409
    # Runs and calls stay as they were (the first run's own nodes may go on meanwhile).
    now = _counts()
    assert (now[0], now[2]) == (after_first[0], after_first[2])


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"ref": "a\\u0000b"}', "cannot be stored"),
        (b"{nope", "not valid JSON"),
    ],
)
def test_a_signed_body_that_cannot_be_taken_is_a_400(
    owner_client: APIClient, body: bytes, problem: str
) -> None:
    _, hook, secret = _trigger(owner_client)
    response = _call(hook, body, signed_headers(secret, body))
    assert response.status_code == 400, response.content
    assert problem in response.json()["error"]["message"]
    assert not GraphExecution.objects.exists()


def test_disabled_and_unknown_webhooks_get_the_same_404(owner_client: APIClient) -> None:
    _, hook, secret = _trigger(owner_client)
    switched = owner_client.patch(f"/api/webhooks/{hook['id']}", {"enabled": False}, format="json")
    assert switched.json()["enabled"] is False
    assert switched.json()["accepts_calls"] is False
    body = json_body({})
    before = _counts()
    disabled = _call(hook, body, signed_headers(secret, body))
    unknown = _call(
        {"id": "0b9d7a6e-59c6-4a8e-b1a2-2f1c4a9f0c11"}, body, signed_headers(secret, body)
    )
    assert disabled.status_code == unknown.status_code == 404
    assert disabled.json()["error"]["message"] == unknown.json()["error"]["message"]
    _nothing_written(hook, before)
    owner_client.patch(f"/api/webhooks/{hook['id']}", {"enabled": True}, format="json")
    assert _call(hook, body, signed_headers(secret, body)).status_code == 202


def test_deleting_the_graph_disables_its_ingress(owner_client: APIClient) -> None:
    graph, hook, secret = _trigger(owner_client)
    assert owner_client.delete(f"/api/graphs/{graph['id']}").status_code == 204
    body = json_body({})
    assert _call(hook, body, signed_headers(secret, body)).status_code == 404
    assert not Webhook.objects.filter(pk=hook["id"]).exists()


def test_the_trigger_follows_the_active_version(owner_client: APIClient) -> None:
    graph, hook, secret = _trigger(owner_client)
    body = json_body({})
    plain = owner_client.put(f"/api/graphs/{graph['id']}", echo_graph(), format="json")
    assert plain.status_code == 200, plain.content
    assert owner_client.get(f"/api/webhooks/{hook['id']}").json()["graph_version"] is None
    assert _call(hook, body, signed_headers(secret, body)).status_code == 404
    owner_client.put(
        f"/api/graphs/{graph['id']}/versions/active", {"active_graph_version": 1}, format="json"
    )
    refreshed = owner_client.get(f"/api/webhooks/{hook['id']}").json()
    assert refreshed["graph_version"] == 1
    response = _call(hook, body, signed_headers(secret, body))
    assert response.status_code == 202
    assert GraphExecution.objects.get(pk=response.json()["execution_id"]).graph_version == 1


def test_a_rotated_secret_replaces_the_old_one(owner_client: APIClient) -> None:
    _, hook, old = _trigger(owner_client)
    new = owner_client.post(f"/api/webhooks/{hook['id']}/secret").json()["secret"]
    assert new != old
    body = json_body({})
    assert _call(hook, body, signed_headers(old, body)).status_code == 401
    assert _call(hook, body, signed_headers(new, body)).status_code == 202


def test_a_preset_becomes_a_trigger_with_its_inputs(worker, owner_client: APIClient) -> None:
    graph = owner_client.post("/api/graphs", _graph_with_input(), format="json").json()
    preset = owner_client.post(
        "/api/presets",
        {
            "graph_id": graph["id"],
            "graph_version": 1,
            "name": "Nightly",
            "inputs": {"topic": "otters"},
        },
        format="json",
    ).json()
    created = owner_client.post("/api/webhooks", {"preset_id": preset["id"]}, format="json")
    assert created.status_code == 201, created.content
    hook = created.json()
    assert hook["preset_id"] == preset["id"]
    assert hook["secret"].startswith("whsec_")
    again = owner_client.post("/api/webhooks", {"preset_id": preset["id"]}, format="json")
    assert again.status_code == 409
    body = json_body({"n": 1})
    response = _call(hook, body, signed_headers(hook["secret"], body))
    assert response.status_code == 202, response.content
    execution = _finished(response.json()["execution_id"])
    assert execution.status == "completed", execution.error_message
    assert str(execution.preset_id) == preset["id"]
    assert execution.outputs["topic"] == ["otters"]
    assert execution.outputs["payload"][0]["body"] == {"n": 1}


def _graph_with_input() -> dict:
    from tests.graphs.graphs import INPUT, OUTPUT, link, node

    graph = webhook_graph("With input")
    graph["nodes"] += [node("in", INPUT, name="topic"), node("topic", OUTPUT, name="topic")]
    graph["links"].append(link("in", "result", "topic", "value"))
    return graph


def test_a_preset_without_a_webhook_node_is_no_trigger(owner_client: APIClient) -> None:
    graph = owner_client.post("/api/graphs", echo_graph(), format="json").json()
    preset = owner_client.post(
        "/api/presets",
        {"graph_id": graph["id"], "graph_version": 1, "name": "P", "inputs": {}},
        format="json",
    ).json()
    refused = owner_client.post("/api/webhooks", {"preset_id": preset["id"]}, format="json")
    assert refused.status_code == 400
    assert not Webhook.objects.exists()


def test_an_empty_purse_is_402_and_logged_and_the_call_may_be_retried(
    owner: User, owner_client: APIClient
) -> None:
    _, hook, secret = _trigger(owner_client)
    credit_apply(user_id=owner.pk, amount=-1000, type="USAGE", transaction_key="drain")
    body = json_body({})
    headers = signed_headers(secret, body)
    refused = _call(hook, body, dict(headers))
    assert refused.status_code == 402
    assert not GraphExecution.objects.exists()
    calls = owner_client.get(f"/api/webhooks/{hook['id']}/calls").json()["data"]
    assert [(c["status_code"], c["execution_id"]) for c in calls] == [(402, None)]
    credit_apply(user_id=owner.pk, amount=1000, type="GRANT", transaction_key="refill")
    assert _call(hook, body, dict(headers)).status_code == 202


def test_other_users_cannot_see_or_change_a_trigger(
    owner_client: APIClient, other_user: User
) -> None:
    _, hook, _ = _trigger(owner_client)
    client = APIClient()
    client.force_authenticate(other_user)
    assert client.get(f"/api/webhooks/{hook['id']}").status_code == 404
    assert client.post(f"/api/webhooks/{hook['id']}/secret").status_code == 404
    assert (
        client.patch(f"/api/webhooks/{hook['id']}", {"enabled": False}, format="json").status_code
        == 404
    )
    assert client.get("/api/webhooks").json()["data"] == []


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"s", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert webhook_signature(secret="s", timestamp="1700000000", body=b"{}") == f"sha256={expected}"
