"""Human review (SPEC §15) with real workers: a run waits in `review` holding nothing, survives a
worker restart, and resumes through the API's decision; reject, timeout, stop and other users."""

import json
from datetime import timedelta
from typing import Any

import pytest
from celery import current_app
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from websockets.sync.client import connect

from apps.common.redis import get_redis
from apps.executions import reviews
from apps.executions.models import GraphExecution, NodeExecution, Review
from apps.graphs.blocks.library.review import HumanReviewBlock
from apps.users.models import User
from tests.graphs.graphs import DELAY, INPUT, OUTPUT, PRINT, link, node
from tests.processes import WorkerProcess, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "maxLength": 20}},
    "required": ["text"],
}


def review_graph(**review_defaults: Any) -> dict[str, Any]:
    """input(draft) → Human Review → output(approved | rejected | timed_out), and a second
    branch input(draft) → print → output(echo) that does not wait."""
    return {
        "name": "Reviewed",
        "nodes": [
            node("in", INPUT, name="draft"),
            node(
                "review",
                HumanReviewBlock.id,
                message="Send this?",
                data_schema=SCHEMA,
                **review_defaults,
            ),
            node("approved", OUTPUT, name="approved"),
            node("rejected", OUTPUT, name="rejected"),
            node("timed_out", OUTPUT, name="timed_out"),
            node("print", PRINT),
            node("echo", OUTPUT, name="echo"),
        ],
        "links": [
            link("in", "result", "review", "data"),
            link("review", "approved_data", "approved", "value"),
            link("review", "rejected_data", "rejected", "value"),
            link("review", "timed_out", "timed_out", "value"),
            link("in", "result", "print", "text"),
            link("print", "output", "echo", "value"),
        ],
    }


def _start(client: APIClient, graph: dict[str, Any]) -> tuple[str, str]:
    graph_id = client.post("/api/graphs", graph, format="json").json()["id"]
    started = client.post(
        f"/api/graphs/{graph_id}/execute",
        {"inputs": {"draft": {"text": "hello"}}},
        format="json",
    )
    assert started.status_code == 200, started.content
    return graph_id, started.json()["id"]


def _status(run_id: str, wanted: str, timeout: float = 30) -> GraphExecution:
    wait_for(
        lambda: GraphExecution.objects.filter(pk=run_id, status=wanted).exists(),
        timeout=timeout,
        what=f"the run to be {wanted}",
    )
    return GraphExecution.objects.get(pk=run_id)


def _worker_idle() -> bool:
    """The worker answers and has nothing active or reserved."""
    inspect = current_app.control.inspect(timeout=1)
    active, reserved = inspect.active(), inspect.reserved()
    if not active or not reserved:
        return False  # no answer yet
    return not any(active.values()) and not any(reserved.values())


def _waiting_review(client: APIClient, run_id: str) -> dict[str, Any]:
    listed = client.get("/api/reviews?status=waiting").json()
    (review,) = [item for item in listed["data"] if item["graph_exec_id"] == run_id]
    return review


def test_it_waits_holding_nothing_survives_a_worker_restart_and_resumes_with_edited_data(
    owner_client: APIClient,
) -> None:
    worker = WorkerProcess(hostname="review-a").start()
    try:
        _, run_id = _start(owner_client, review_graph())
        run = _status(run_id, "review")
        # Other branches went on: the echo branch finished before the run started waiting.
        assert run.outputs == {"echo": [{"text": "hello"}]}
        assert (run.lease_owner, run.lease_expires_at, run.ended_at) == ("", None, None)
        review_exec = NodeExecution.objects.get(graph_execution_id=run_id, node__key="review")
        assert review_exec.status == "review"
        # No task is held once the run's task has returned (it ends right after the commit).
        wait_for(_worker_idle, timeout=10, what="the worker to hold no task")
        assert get_redis().llen("executions") == 0
        assert GraphExecution.objects.get(pk=run_id).status == "review"  # and still waits
    finally:
        worker.stop()
    review = _waiting_review(owner_client, run_id)
    assert (review["data"], review["message"], review["editable"]) == (
        {"text": "hello"},
        "Send this?",
        True,
    )
    worker = WorkerProcess(hostname="review-b").start()  # everything restarted meanwhile
    try:
        decided = owner_client.post(
            f"/api/reviews/{review['id']}",
            {"approved": True, "data": {"text": "edited"}, "message": "Fixed the text"},
            format="json",
        )
        assert decided.status_code == 200, decided.content
        assert decided.json()["status"] == "approved"
        run = _status(run_id, "completed")
    finally:
        worker.stop()
    assert run.outputs == {"echo": [{"text": "hello"}], "approved": [{"text": "edited"}]}
    review_exec.refresh_from_db()
    assert review_exec.status == "completed"
    assert [(o.pin, o.value) for o in review_exec.outputs.all()] == [
        ("approved_data", {"text": "edited"}),
        ("review_message", "Fixed the text"),
    ]


@pytest.fixture(scope="module")
def review_worker(django_db_setup, django_db_blocker):
    process = WorkerProcess(hostname="review").start()
    yield process
    process.stop()


def test_it_rejects_and_the_run_goes_on_with_the_original_data(
    review_worker, owner_client: APIClient
) -> None:
    _, run_id = _start(owner_client, review_graph())
    _status(run_id, "review")
    review = _waiting_review(owner_client, run_id)
    answer = owner_client.post(f"/api/reviews/{review['id']}", {"approved": False}, format="json")
    assert answer.json()["status"] == "rejected"
    run = _status(run_id, "completed")
    assert run.outputs["rejected"] == [{"text": "hello"}]
    assert "approved" not in run.outputs
    again = owner_client.post(f"/api/reviews/{review['id']}", {"approved": True}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["error_code"] == "CONFLICT"


def test_it_times_out_through_the_beat_job(review_worker, owner_client: APIClient) -> None:
    _, run_id = _start(owner_client, review_graph(timeout_seconds=0.2))
    _status(run_id, "review")
    wait_for(lambda: reviews.review_timeouts() == 1, timeout=5, what="the review to expire")
    run = _status(run_id, "completed")
    assert run.outputs["timed_out"] == [{"text": "hello"}]
    assert Review.objects.get(graph_execution_id=run_id).status == "timed_out"


def test_edited_data_that_fails_the_schema_is_a_400_naming_the_field(
    review_worker, owner_client: APIClient
) -> None:
    _, run_id = _start(owner_client, review_graph())
    _status(run_id, "review")
    review = _waiting_review(owner_client, run_id)
    answer = owner_client.post(
        f"/api/reviews/{review['id']}",
        {"approved": True, "data": {"text": "x" * 50}},
        format="json",
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["error_code"] == "VALIDATION_ERROR"
    assert "data.text" in error["details"]["fields"]
    assert error["message"].startswith("data.text: ")
    assert GraphExecution.objects.get(pk=run_id).status == "review"  # still waiting


def test_stop_cancels_a_waiting_review_and_a_later_decision_is_a_409(
    review_worker, owner_client: APIClient
) -> None:
    graph_id, run_id = _start(owner_client, review_graph())
    _status(run_id, "review")
    review = _waiting_review(owner_client, run_id)
    stopped = owner_client.post(f"/api/graphs/{graph_id}/executions/{run_id}/stop")
    assert stopped.json()["status"] == "cancelled"
    assert Review.objects.get(pk=review["id"]).status == "cancelled"
    assert NodeExecution.objects.get(graph_execution_id=run_id, node__key="review").status == (
        "cancelled"
    )
    late = owner_client.post(f"/api/reviews/{review['id']}", {"approved": True}, format="json")
    assert late.status_code == 409


def test_another_user_can_neither_see_nor_decide_it(
    review_worker, owner_client: APIClient, other_user: User
) -> None:
    _, run_id = _start(owner_client, review_graph())
    _status(run_id, "review")
    review = _waiting_review(owner_client, run_id)
    other = APIClient()
    other.force_authenticate(other_user)
    assert other.get("/api/reviews").json()["total"] == 0
    answer = other.post(f"/api/reviews/{review['id']}", {"approved": True}, format="json")
    assert answer.status_code == 404
    assert Review.objects.get(pk=review["id"]).status == "waiting"


def test_the_owner_is_notified_on_ws_with_a_link(
    review_worker, asgi_server, owner: User, owner_client: APIClient
) -> None:
    token = str(AccessToken.for_user(owner))
    with connect(f"{asgi_server.ws_url}/ws?token={token}") as socket:
        _, run_id = _start(owner_client, review_graph())

        def notification() -> dict[str, Any] | None:
            message = json.loads(socket.recv(timeout=30))
            return message if message["method"] == "notification" else None

        message = wait_for(notification, timeout=30, what="the review notification")
    data = message["data"]
    assert data["type"] == "review_requested"
    assert data["data"]["graph_exec_id"] == run_id
    assert data["data"]["url"].endswith(f"/runs/{run_id}")
    assert data["title"] == "Reviewed waits for your review"


def _slow_branch_graph(seconds: float) -> dict[str, Any]:
    """review_graph whose echo branch first waits `seconds`."""
    graph = review_graph()
    graph["nodes"].append(node("wait", DELAY, seconds=seconds))
    graph["links"] = [
        link("in", "result", "wait", "data") if item["sink_id"] == "print" else item
        for item in graph["links"]
    ]
    graph["links"].append(link("wait", "output", "print", "text"))
    return graph


def _parked_while_running(run_id: str) -> None:
    wait_for(
        lambda: NodeExecution.objects.filter(
            graph_execution_id=run_id, node__key="review", status="review"
        ).exists(),
        timeout=30,
        what="the review to wait",
    )
    assert GraphExecution.objects.get(pk=run_id).status == "running"  # the delay still runs


def test_a_decision_while_other_branches_still_run_resumes_the_run_when_they_end(
    review_worker, owner_client: APIClient
) -> None:
    _, run_id = _start(owner_client, _slow_branch_graph(2))
    _parked_while_running(run_id)
    review = _waiting_review(owner_client, run_id)
    answer = owner_client.post(f"/api/reviews/{review['id']}", {"approved": True}, format="json")
    assert answer.status_code == 200
    run = _status(run_id, "completed")
    assert run.outputs == {"echo": [{"text": "hello"}], "approved": [{"text": "hello"}]}


def test_the_list_refuses_an_unknown_status_and_read_only_data_cannot_be_edited(
    review_worker, owner_client: APIClient
) -> None:
    bad = owner_client.get("/api/reviews?status=maybe")
    assert bad.status_code == 400
    _, run_id = _start(owner_client, review_graph(editable=False))
    _status(run_id, "review")
    review = _waiting_review(owner_client, run_id)
    answer = owner_client.post(
        f"/api/reviews/{review['id']}", {"approved": True, "data": {"text": "x"}}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["details"]["fields"] == {"data": "read-only"}
    page = owner_client.get("/api/reviews?page_size=1").json()
    assert (page["page_size"], page["total"], len(page["data"])) == (1, 1, 1)


def test_a_review_with_an_invalid_data_schema_fails_its_node_instead_of_waiting(
    review_worker, owner_client: APIClient
) -> None:
    graph = review_graph()
    graph["nodes"][1]["input_default"]["data_schema"] = {"type": 5}
    _, run_id = _start(owner_client, graph)
    run = _status(run_id, "completed")
    review_exec = NodeExecution.objects.get(graph_execution_id=run_id, node__key="review")
    assert review_exec.status == "failed"
    assert review_exec.error.startswith("data_schema is not a valid JSON Schema")
    assert not Review.objects.filter(graph_execution_id=run_id).exists()
    assert run.stats["node_error_count"] == 1


def test_edited_data_errors_name_every_field_in_a_stable_order() -> None:
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}},
            "text": {"type": "string"},
        },
    }
    errors = reviews._schema_errors(schema, {"tags": ["ok", 3], "text": 5})
    assert errors == {
        "data.tags.1": "3 is not of type 'string'",
        "data.text": "5 is not of type 'string'",
    }
    assert reviews._schema_errors({"type": 5}, {}) == {
        "data": "the review's data_schema is not a valid JSON Schema"
    }


def test_time_spent_waiting_does_not_count_towards_the_runs_time_limit(
    review_worker, owner_client: APIClient
) -> None:
    _, run_id = _start(owner_client, {**review_graph(), "time_limit_seconds": 60})
    run = _status(run_id, "review")
    # As if it had started two hours ago and waited for its reviewer ever since.
    hours_ago = run.started_at - timedelta(hours=2)
    stats = {**run.stats, "review_paused_at": run.stats["review_paused_at"] - 7200}
    GraphExecution.objects.filter(pk=run_id).update(started_at=hours_ago, stats=stats)
    review = _waiting_review(owner_client, run_id)
    owner_client.post(f"/api/reviews/{review['id']}", {"approved": True}, format="json")
    run = _status(run_id, "completed")
    assert run.outputs["approved"] == [{"text": "hello"}]
    assert run.stats["review_wait_seconds"] >= 7200


def test_stop_while_other_branches_run_cancels_the_parked_review(
    review_worker, owner_client: APIClient
) -> None:
    graph_id, run_id = _start(owner_client, _slow_branch_graph(30))
    _parked_while_running(run_id)
    owner_client.post(f"/api/graphs/{graph_id}/executions/{run_id}/stop")
    _status(run_id, "cancelled", timeout=5)
    review_exec = NodeExecution.objects.get(graph_execution_id=run_id, node__key="review")
    assert review_exec.status == "cancelled"
    assert Review.objects.get(graph_execution_id=run_id).status == "cancelled"
