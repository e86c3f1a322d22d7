"""LLM graphs run by a real worker against the OpenAI-compatible test server: outputs, token
stats, per-model charges with the platform's key, none with the user's own (SPEC §4, §9, §12)."""

import json

import pytest
from rest_framework.test import APIClient

from apps.credits.models import CreditTransaction
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.blocks.library.ai import AITextGeneratorBlock
from apps.integrations import services
from apps.users.models import User
from tests.graphs.graphs import INPUT, OUTPUT, link, node
from tests.processes import LOOPBACK_TEST_PORTS, WorkerProcess, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
PLATFORM_KEY = "sk-platform-0123456789abcdef"
USER_KEY = "sk-alice-own-key-0123456789"


@pytest.fixture(scope="module")
def llm_worker(django_db_setup, django_db_blocker, openai_server_session):
    env = {"OPENAI_API_KEY": PLATFORM_KEY, "OPENAI_BASE_URL": openai_server_session.url}
    process = WorkerProcess(hostname="llm", env=env).start()
    yield process
    process.stop()


def _llm_graph(**llm_defaults) -> dict:
    """input(topic) → AI Text Generator → output(answer)"""
    return {
        "name": "Ask the model",
        "nodes": [
            node("in", INPUT, name="topic"),
            node("llm", AITextGeneratorBlock.id, **llm_defaults),
            node("out", OUTPUT, name="answer"),
            node("failed", OUTPUT, name="problem"),
        ],
        "links": [
            link("in", "result", "llm", "prompt"),
            link("llm", "response", "out", "value"),
            link("llm", "error", "failed", "value"),
        ],
    }


def _run(client: APIClient, graph: dict, **body) -> dict:
    created = client.post("/api/graphs", graph, format="json")
    assert created.status_code in (200, 201), created.content
    graph_id = created.json()["id"]
    started = client.post(f"/api/graphs/{graph_id}/execute", body, format="json")
    assert started.status_code == 200, started.content
    run_id = started.json()["id"]
    wait_for(
        lambda: GraphExecution.objects.filter(pk=run_id, status="completed").exists(),
        timeout=60,
        what="the LLM run to complete",
    )
    return client.get(f"/api/executions/{run_id}").json()


def _usage(run_id: str) -> list[int]:
    return list(
        CreditTransaction.objects.filter(graph_exec_id=run_id, type="USAGE").values_list(
            "amount", flat=True
        )
    )


def test_with_the_platforms_key_the_output_has_token_stats_and_the_model_is_charged(
    llm_worker, openai_server, owner: User, owner_client: APIClient
) -> None:
    run = _run(owner_client, _llm_graph(model="gpt-4o"), inputs={"topic": "Tell me of otters"})
    assert run["outputs"] == {"answer": ["Echo: Tell me of otters"]}
    llm = NodeExecution.objects.get(graph_execution_id=run["id"], node__key="llm")
    assert llm.stats["input_token_count"] == 4
    assert llm.stats["output_token_count"] == 5
    assert llm.stats["llm_call_count"] == 1
    assert llm.stats["model"] == "gpt-4o"
    assert _usage(run["id"]) == [-3]  # gpt-4o's price
    assert run["stats"]["cost"] == 3
    assert openai_server.requests[-1]["headers"]["authorization"] == f"Bearer {PLATFORM_KEY}"


def test_with_the_users_own_key_nothing_is_charged_and_the_key_is_nowhere(
    llm_worker, openai_server, owner: User, owner_client: APIClient, settings
) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    services.credential_create(
        user=owner, provider="openai", title="Mine", api_key=USER_KEY, base_url=openai_server.url
    )
    graph = _llm_graph(model="gpt-4o")
    run = _run(owner_client, graph, inputs={"topic": "Hello"})
    assert run["outputs"] == {"answer": ["Echo: Hello"]}
    assert openai_server.requests[-1]["headers"]["authorization"] == f"Bearer {USER_KEY}"
    assert _usage(run["id"]) == []
    assert run["stats"]["cost"] == 0
    # The key is in no execution record, API answer or export.
    answers = [
        owner_client.get(f"/api/executions/{run['id']}").content.decode(),
        owner_client.get(f"/api/executions/{run['id']}/results").content.decode(),
        owner_client.get(f"/api/graphs/{run['graph_id']}/export").content.decode(),
        owner_client.get("/api/integrations/credentials").content.decode(),
    ]
    rows = [
        json.dumps(list(GraphExecution.objects.values()), default=str),
        json.dumps(list(NodeExecution.objects.values()), default=str),
    ]
    for text in answers + rows:
        assert USER_KEY not in text


def test_credentials_inputs_pick_the_credential_per_node(
    llm_worker, openai_server, owner: User, owner_client: APIClient, settings
) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    chosen = services.credential_create(
        user=owner,
        provider="openai",
        title="Old",
        api_key="sk-chosen-111111",
        base_url=openai_server.url,
    )
    services.credential_create(
        user=owner,
        provider="openai",
        title="New",
        api_key="sk-newest-222222",
        base_url=openai_server.url,
    )
    run = _run(
        owner_client,
        _llm_graph(),
        inputs={"topic": "Hi"},
        credentials_inputs={"llm": {"id": str(chosen.pk)}},
    )
    assert run["outputs"] == {"answer": ["Echo: Hi"]}
    assert openai_server.requests[-1]["headers"]["authorization"] == "Bearer sk-chosen-111111"


def test_a_credential_of_someone_else_cannot_be_selected(
    owner_client: APIClient, other_user: User
) -> None:
    theirs = services.credential_create(
        user=other_user, provider="openai", title="Bob's", api_key="sk-bob-1234567"
    )
    graph = owner_client.post("/api/graphs", _llm_graph(), format="json").json()
    response = owner_client.post(
        f"/api/graphs/{graph['id']}/execute",
        {"inputs": {"topic": "Hi"}, "credentials_inputs": {"openai": str(theirs.pk)}},
        format="json",
    )
    assert response.status_code == 400
    assert "no credential" in response.json()["error"]["message"]
    assert not GraphExecution.objects.exists()


def test_a_provider_error_comes_out_on_the_nodes_error_pin(
    llm_worker, openai_server, owner: User, owner_client: APIClient, settings
) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    services.credential_create(
        user=owner, provider="openai", title="Mine", api_key=USER_KEY, base_url=openai_server.url
    )
    run = _run(owner_client, _llm_graph(model="error-500"), inputs={"topic": "Hi"})
    assert run["stats"]["node_error_count"] == 1
    assert list(run["outputs"]) == ["problem"]
    [problem] = run["outputs"]["problem"]
    assert problem == (
        f"The provider at {openai_server.url} answered 500: "
        "The server had an error while processing your request."
    )
    llm = NodeExecution.objects.get(graph_execution_id=run["id"], node__key="llm")
    assert llm.status == "failed"
    assert llm.error == problem


def test_the_seed_manuals_llm_node_runs_by_its_alias(
    llm_worker, openai_server, owner: User, owner_client: APIClient
) -> None:
    """02-platform-manual.txt §1.2.2: block `llm_call_block`, model gpt-4, a prompt with an
    `{input_text}` placeholder and max_tokens; the text arrives on a prompt value."""
    graph = {
        "name": "API创建的文本摘要流程",
        "nodes": [
            {"id": "text_input", "block_id": "text_input_block", "input_default": {}},
            {
                "id": "summarize",
                "block_id": "llm_call_block",
                "input_default": {
                    "model": "gpt-4",
                    "prompt": "请简洁地总结以下内容:\n\n{input_text}",
                    "max_tokens": 150,
                },
            },
            node("out", OUTPUT, name="summary"),
        ],
        "links": [
            link("text_input", "text", "summarize", "prompt_values_#_input_text"),
            link("summarize", "response", "out", "value"),
        ],
    }
    run = _run(owner_client, graph, inputs={"text": "REPLY: 短文"})
    assert run["outputs"] == {"summary": ["短文"]}
    sent = openai_server.requests[-1]["body"]
    assert (sent["model"], sent["max_tokens"]) == ("gpt-4", 150)
    assert sent["messages"][-1]["content"] == "请简洁地总结以下内容:\n\nREPLY: 短文"
    assert _usage(run["id"]) == [-14]  # gpt-4's price


def test_a_single_block_call_is_charged_only_with_the_platforms_key(
    openai_server, owner: User, owner_client: APIClient, settings
) -> None:
    settings.OPENAI_API_KEY = PLATFORM_KEY
    settings.OPENAI_BASE_URL = openai_server.url
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    url = f"/api/blocks/{AITextGeneratorBlock.id}/execute"
    paid = owner_client.post(url, {"prompt": "Hi", "model": "gpt-4o"}, format="json")
    assert paid.json() == {"response": ["Echo: Hi"]}
    usage = CreditTransaction.objects.filter(user=owner, type="USAGE")
    assert list(usage.values_list("amount", flat=True)) == [-3]
    services.credential_create(
        user=owner, provider="openai", title="Mine", api_key=USER_KEY, base_url=openai_server.url
    )
    free = owner_client.post(url, {"prompt": "Hi again", "model": "gpt-4o"}, format="json")
    assert free.json() == {"response": ["Echo: Hi again"]}
    assert usage.count() == 1
    assert openai_server.requests[-1]["headers"]["authorization"] == f"Bearer {USER_KEY}"
