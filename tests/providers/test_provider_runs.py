"""Provider blocks in agents run by a real worker (SPEC §12, §16): a node's credential is
checked at save and at run start, the saved one is used, a secret input is in no export and no
execution record, and Notify Owner reaches the owner."""

import json

import pytest
from rest_framework.test import APIClient

from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.blocks.library.flow import NotifyOwnerBlock
from apps.graphs.blocks.library.github import GitHubCreateIssueBlock
from apps.graphs.blocks.library.web import GraphQLRequestBlock
from apps.integrations import services
from apps.notifications.models import Notification
from apps.users.models import User
from tests.graphs.graphs import INPUT, OUTPUT, WEB_REQUEST, link, node
from tests.processes import LOOPBACK_TEST_PORTS, WorkerProcess, wait_for
from tests.providers.server import VALID_TOKEN

pytestmark = pytest.mark.django_db(transaction=True)
GQL_SECRET = "Bearer gql-secret"


@pytest.fixture(scope="module")
def provider_worker(django_db_setup, django_db_blocker):
    process = WorkerProcess(
        hostname="providers", env={"BLOCK_HTTP_ALLOWED_HOSTS": LOOPBACK_TEST_PORTS}
    ).start()
    yield process
    process.stop()


@pytest.fixture
def allow_loopback(settings):
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]


def _create(client: APIClient, graph: dict) -> dict:
    response = client.post("/api/graphs", graph, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _run(client: APIClient, graph_id: str, **body) -> dict:
    started = client.post(f"/api/graphs/{graph_id}/execute", body, format="json")
    assert started.status_code == 200, started.content
    run_id = started.json()["id"]
    wait_for(
        lambda: GraphExecution.objects.filter(
            pk=run_id, status__in=["completed", "failed"]
        ).exists(),
        timeout=60,
        what="the run to finish",
    )
    return client.get(f"/api/executions/{run_id}").json()


def _issue_graph(credential_id: str | None = None) -> dict:
    issue = node("issue", GitHubCreateIssueBlock.id, repo="otters/zoo")
    if credential_id:
        issue["metadata"] = {"credentials_id": credential_id}
    return {
        "name": "File an issue",
        "nodes": [
            node("in", INPUT, name="title"),
            issue,
            node("out", OUTPUT, name="url"),
            node("failed", OUTPUT, name="problem"),
        ],
        "links": [
            link("in", "result", "issue", "title"),
            link("issue", "url", "out", "value"),
            link("issue", "error", "failed", "value"),
        ],
    }


def _github_credential(owner: User, server, token: str = VALID_TOKEN):
    return services.credential_create(
        user=owner,
        provider="github",
        title="Bot",
        api_key=token,
        base_url=server.base_url("github"),
    )


def test_a_node_uses_its_saved_credential_checked_at_save_and_at_run(
    provider_worker, provider_server, allow_loopback, owner: User, owner_client: APIClient
):
    wrong = services.credential_create(user=owner, provider="openai", title="LLM", api_key="sk-1")
    refused = owner_client.post("/api/graphs", _issue_graph(str(wrong.pk)), format="json")
    assert refused.status_code == 400
    assert "is for openai, not github" in json.dumps(refused.json())

    _github_credential(owner, provider_server, token="not-the-token")  # newest, but not chosen
    chosen = _github_credential(owner, provider_server)
    _github_credential(owner, provider_server, token="not-the-token-either")
    graph = _create(owner_client, _issue_graph(str(chosen.pk)))
    run = _run(owner_client, graph["id"], inputs={"title": "Feed the otters"})
    assert run["status"] == "completed", run
    assert run["outputs"]["url"] == ["https://github.example/otters/zoo/issues/42"]
    used = NodeExecution.objects.get(graph_execution_id=run["id"], node__key="issue")
    assert used.stats["credential_id"] == str(chosen.pk)
    sent = [r for r in provider_server.requests if r["path"].endswith("/issues")]
    assert sent[-1]["headers"]["Authorization"] == f"Bearer {VALID_TOKEN}"
    assert sent[-1]["body"] == {"title": "Feed the otters", "body": ""}

    exported = owner_client.get(f"/api/graphs/{graph['id']}/export").json()
    assert all("credentials_id" not in n["metadata"] for n in exported["nodes"])

    mismatch = owner_client.post(
        f"/api/graphs/{graph['id']}/execute",
        {"inputs": {"title": "x"}, "credentials_inputs": {"issue": str(wrong.pk)}},
        format="json",
    )
    assert mismatch.status_code == 400
    assert "is for openai, not github" in json.dumps(mismatch.json())


def test_a_refused_token_fails_the_node_naming_github_and_the_cause(
    provider_worker, provider_server, allow_loopback, owner: User, owner_client: APIClient
):
    credential = _github_credential(owner, provider_server, token="revoked-token")
    graph = _create(owner_client, _issue_graph(str(credential.pk)))
    run = _run(owner_client, graph["id"], inputs={"title": "x"})
    assert run["outputs"]["problem"] == [
        "GitHub answered 401 (the credentials were refused): Bad credentials."
    ]
    failed = NodeExecution.objects.get(graph_execution_id=run["id"], node__key="issue")
    assert failed.stats.get("failure_kind") == "auth"
    assert "revoked-token" not in json.dumps(run)


def test_a_secret_input_is_in_no_export_and_no_execution_record(
    provider_worker, provider_server, allow_loopback, owner: User, owner_client: APIClient
):
    graph = _create(
        owner_client,
        {
            "name": "Ask GraphQL",
            "nodes": [
                node("in", INPUT, name="id"),
                node(
                    "gql",
                    GraphQLRequestBlock.id,
                    endpoint=f"{provider_server.url}/graphql",
                    query="query($id: ID!) { otter(id: $id) { name } }",
                    headers={"Authorization": GQL_SECRET},
                ),
                node("out", OUTPUT, name="otter"),
            ],
            "links": [link("gql", "data", "out", "value")],
        },
    )
    exported = owner_client.get(f"/api/graphs/{graph['id']}/export")
    assert exported.status_code == 200
    assert "gql-secret" not in exported.content.decode()
    assert "endpoint" in exported.content.decode()  # the rest of the node is there

    run = _run(owner_client, graph["id"], inputs={"id": "1"})
    assert run["status"] == "completed", run
    assert run["outputs"]["otter"] == [{"otter": {"name": "Olive"}}]  # the header was sent
    records = NodeExecution.objects.filter(graph_execution_id=run["id"])
    assert "gql-secret" not in json.dumps(list(records.values_list("input_data", flat=True)))
    assert "gql-secret" not in json.dumps(owner_client.get(f"/api/executions/{run['id']}").json())


def test_a_web_request_nodes_headers_are_not_exported(owner_client: APIClient):
    graph = _create(
        owner_client,
        {
            "name": "Call an API",
            "nodes": [
                node("call", WEB_REQUEST, url="https://api.example.org/items",
                     headers={"Authorization": "Bearer web-secret-42"}),
                node("out", OUTPUT, name="items"),
            ],
            "links": [link("call", "response", "out", "value")],
        },
    )  # fmt: skip
    exported = owner_client.get(f"/api/graphs/{graph['id']}/export").content.decode()
    assert "web-secret-42" not in exported
    assert "https://api.example.org/items" in exported


def test_notify_owner_reaches_the_owner_from_a_run(
    provider_worker, owner: User, owner_client: APIClient
):
    graph = _create(
        owner_client,
        {
            "name": "Tell me",
            "nodes": [
                node("in", INPUT, name="news"),
                node("notify", NotifyOwnerBlock.id, title="Agent news"),
                node("out", OUTPUT, name="id"),
            ],
            "links": [
                link("in", "result", "notify", "message"),
                link("notify", "notification_id", "out", "value"),
            ],
        },
    )
    run = _run(owner_client, graph["id"], inputs={"news": "Two otters spotted"})
    notice = Notification.objects.get(user=owner, type="agent_message")
    assert run["outputs"]["id"] == [str(notice.pk)]
    assert (notice.title, notice.message) == ("Agent news", "Two otters spotted")
