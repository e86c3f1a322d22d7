"""The whole store story with three personas and a real worker (issue 6, done-when):
alice creates, charlie (staff) reviews, bob finds, reviews, keeps, runs and forks; dave is a
stranger who sees none of the unlisted parts."""

import json

import pytest
from rest_framework.test import APIClient

from apps.credits.models import CreditTransaction
from apps.credits.selectors import credit_balance_get
from apps.executions.models import GraphExecution
from apps.graphs.blocks.library.basic import PrintBlock
from apps.users.models import User
from tests.processes import WorkerProcess, wait_for
from tests.store.conftest import create_graph

pytestmark = pytest.mark.django_db(transaction=True)
PRICE = 7


@pytest.fixture(scope="module")
def pricing_worker(django_db_setup, django_db_blocker):
    """A real worker where the Print block costs PRICE credits a run."""
    prices = {PrintBlock.id: [{"amount": PRICE, "unit": "RUN", "filter": {}}]}
    process = WorkerProcess(
        hostname="store", env={"BLOCK_COST_OVERRIDES": json.dumps(prices)}
    ).start()
    yield process
    process.stop()


def _finished(client: APIClient, graph_exec_id: str) -> dict:
    def done() -> dict | None:
        body = client.get(f"/api/executions/{graph_exec_id}").json()
        return body if body["status"] not in ("queued", "running", "incomplete") else None

    return wait_for(done, timeout=60, what=f"execution {graph_exec_id} to finish")


def _runs(client: APIClient) -> int:
    return client.get("/api/store/agents/alice/echo").json()["agent"]["runs"]


def test_the_store_story_from_submission_to_a_paid_run_and_a_fork(
    pricing_worker,
    owner: User,
    other_user: User,
    creator_client: APIClient,
    staff_client: APIClient,
    other_client: APIClient,
    stranger_client: APIClient,
) -> None:
    # alice submits her graph; the description carries a script.
    graph = create_graph(creator_client, "Echo")
    submission = {
        "graph_id": graph["id"],
        "slug": "Echo",
        "name": "Echo",
        "sub_heading": "Repeats what you tell it",
        "description": "<p>Say anything.</p><script>steal(document.cookie)</script>",
        "categories": ["Text"],
    }
    first = creator_client.post("/api/store/submissions", submission, format="json").json()
    assert (first["version"], first["status"]) == (1, "pending")

    # charlie rejects it with comments for alice and a note for staff.
    queue = staff_client.get("/api/admin/store/submissions?status=pending").json()["data"]
    assert [row["id"] for row in queue] == [first["id"]]
    rejected = staff_client.post(
        f"/api/admin/store/submissions/{first['id']}/review",
        {
            "is_approved": False,
            "comments": "Say what the input is.",
            "internal_comments": "Check the author's other agents.",
        },
        format="json",
    )
    assert rejected.status_code == 200
    mine = creator_client.get("/api/store/submissions").json()["data"]
    assert [(row["status"], row["review_comments"]) for row in mine] == [
        ("rejected", "Say what the input is.")
    ]
    assert b"other agents" not in creator_client.get("/api/store/submissions").content
    assert stranger_client.get("/api/store/agents/alice/echo").status_code == 404
    assert stranger_client.get("/api/store/agents?search=echo").json()["total"] == 0

    # alice resubmits; charlie approves.
    second = creator_client.post(
        "/api/store/submissions",
        {**submission, "sub_heading": "Repeats your topic", "changes_summary": "Says the input"},
        format="json",
    ).json()
    assert (second["version"], second["status"]) == (2, "pending")
    approved = staff_client.post(
        f"/api/admin/store/submissions/{second['id']}/review",
        {"is_approved": True, "comments": "Thanks!"},
        format="json",
    ).json()
    assert (approved["status"], approved["is_active"]) == ("approved", True)

    # bob finds it by search; the script is gone from what everyone sees.
    found = other_client.get("/api/store/agents?search=echo").json()["data"]
    assert [(a["name"], a["version"], a["creator"]["username"]) for a in found] == [
        ("Echo", 2, "alice")
    ]
    assert "<script" not in found[0]["description"]
    assert "steal" not in found[0]["description"]
    assert "<p>Say anything.</p>" in found[0]["description"]

    # bob reviews it and adds it to his library.
    reviewed = other_client.post(
        "/api/store/agents/alice/echo/review", {"score": 5, "comments": "Works"}, format="json"
    )
    assert reviewed.status_code == 201
    added = other_client.post(
        "/api/library/agents",
        {"store_listing_version_id": found[0]["listing_version_id"]},
        format="json",
    ).json()

    # bob runs it with the real worker: his run, paid by him.
    alice_before = credit_balance_get(user_id=owner.pk)
    bob_before = credit_balance_get(user_id=other_user.pk)
    started = other_client.post(
        f"/api/library/agents/{added['id']}/execute",
        {"inputs": {"topic": "otters"}},
        format="json",
    )
    assert started.status_code == 200, started.content
    run = _finished(other_client, started.json()["id"])
    assert run["status"] == "completed", run
    assert run["outputs"] == {"answer": ["otters"]}
    assert (run["user_id"], run["graph_id"]) == (str(other_user.pk), graph["id"])
    assert run["stats"]["cost"] == PRICE
    assert credit_balance_get(user_id=other_user.pk) == bob_before - PRICE
    assert credit_balance_get(user_id=owner.pk) == alice_before
    usage = CreditTransaction.objects.filter(type="USAGE", graph_exec_id=run["id"])
    assert list(usage.values_list("user_id", "amount")) == [(other_user.pk, -PRICE)]
    assert creator_client.get(f"/api/executions/{run['id']}").status_code == 404
    assert _runs(stranger_client) == 1

    # alice's own runs do not count.
    own = creator_client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "mine"}}, format="json"
    ).json()
    assert _finished(creator_client, own["id"])["status"] == "completed"
    assert GraphExecution.objects.filter(graph_id=graph["id"]).count() == 2
    assert _runs(stranger_client) == 1

    # bob forks it into a graph of his own and runs that.
    fork = other_client.post(f"/api/library/agents/{added['id']}/fork").json()
    assert (fork["user_id"], fork["forked_from_id"]) == (str(other_user.pk), graph["id"])
    forked_run = other_client.post(
        f"/api/graphs/{fork['id']}/execute", {"inputs": {"topic": "forked"}}, format="json"
    ).json()
    assert _finished(other_client, forked_run["id"])["outputs"] == {"answer": ["forked"]}
    assert _runs(stranger_client) == 1  # runs of the fork are not runs of the listing

    # alice edits the listed version: a new pending one that dave cannot see.
    pending = creator_client.put(
        f"/api/store/submissions/{second['id']}", {"name": "Echo 3"}, format="json"
    ).json()
    assert (pending["version"], pending["status"]) == (3, "pending")
    detail = stranger_client.get("/api/store/agents/alice/echo")
    assert [v["version"] for v in detail.json()["versions"]] == [2]
    assert detail.json()["agent"]["name"] == "Echo"
    assert b"Check the author" not in detail.content
    assert [r["score"] for r in detail.json()["reviews"]] == [5]
