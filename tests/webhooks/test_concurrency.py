"""Fifty signed calls at once through the real ASGI server start fifty runs."""

import threading

import httpx
import pytest
from rest_framework.test import APIClient

from apps.executions.models import GraphExecution
from apps.webhooks.models import WebhookCall
from tests.processes import AsgiServer, wait_for
from tests.webhooks.helpers import json_body, signed_headers, webhook_graph

pytestmark = pytest.mark.django_db(transaction=True)

CALLS = 50


def test_fifty_concurrent_calls_start_fifty_runs(
    worker, asgi_server: AsgiServer, owner_client: APIClient
) -> None:
    graph = owner_client.post("/api/graphs", webhook_graph(), format="json").json()
    hook = owner_client.get("/api/webhooks").json()["data"][0]
    secret = owner_client.post(f"/api/webhooks/{hook['id']}/secret").json()["secret"]
    url = f"{asgi_server.url}/api/webhooks/{hook['id']}/ingress"
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()
    start = threading.Barrier(CALLS)

    def call(index: int) -> None:
        body = json_body({"n": index})
        headers = signed_headers(secret, body, **{"Content-Type": "application/json"})
        start.wait()
        response = httpx.post(url, content=body, headers=headers, timeout=60)
        with lock:
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=call, args=(index,)) for index in range(CALLS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert sorted(status for status, _ in answers) == [202] * CALLS, answers[:3]
    started = {body["execution_id"] for _, body in answers}
    assert len(started) == CALLS
    runs = GraphExecution.objects.filter(graph_id=graph["id"])
    assert set(map(str, runs.values_list("pk", flat=True))) == started
    assert WebhookCall.objects.filter(webhook_id=hook["id"], status_code=202).count() == CALLS

    def all_done() -> bool:
        return not runs.exclude(status__in=["completed", "failed", "cancelled"]).exists()

    wait_for(all_done, timeout=180, what="the fifty runs to finish")
    outputs = sorted(run.outputs["payload"][0]["body"]["n"] for run in runs)
    assert outputs == list(range(CALLS))
