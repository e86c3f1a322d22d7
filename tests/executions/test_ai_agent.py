"""The AI Agent run by a real worker against the OpenAI-compatible test server, scripted to call
tools (SPEC §15): each call a node execution, charged, concurrent within a turn, stoppable;
bad calls go back to the model; the loop is bounded."""

import json
import time
from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from websockets.sync.client import connect

from apps.credits.models import CreditTransaction
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.blocks.library.ai_agent import AIAgentBlock
from apps.graphs.blocks.library.ai_decisions import AIClassifierBlock
from apps.graphs.blocks.library.maths import CalculatorBlock
from apps.users.models import User
from tests.graphs.graphs import AGENT, DELAY, INPUT, OUTPUT, WEB_REQUEST, echo_graph, link, node
from tests.processes import WorkerProcess, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
PLATFORM_KEY = "sk-platform-0123456789abcdef"
CALCULATOR_PRICE = 2


@pytest.fixture(scope="module")
def agent_worker(django_db_setup, django_db_blocker, openai_server_session):
    env = {
        "OPENAI_API_KEY": PLATFORM_KEY,
        "OPENAI_BASE_URL": openai_server_session.url,
        "BLOCK_COST_OVERRIDES": json.dumps(
            {CalculatorBlock.id: [{"amount": CALCULATOR_PRICE, "unit": "RUN", "filter": {}}]}
        ),
    }
    process = WorkerProcess(hostname="agent", env=env).start()
    yield process
    process.stop()


def tool_link(agent: str, tool: str) -> dict[str, Any]:
    return link(agent, "tools", tool, "tool")


def _labelled(key: str, block_id: str, label: str, **defaults: Any) -> dict[str, Any]:
    return {**node(key, block_id, **defaults), "label": label}


def _agent_graph(tools: list[dict[str, Any]], **agent_defaults: Any) -> dict[str, Any]:
    """input(question) → AI Agent (+ tools) → output(answer) / output(problem)"""
    return {
        "name": "Agent",
        "nodes": [
            node("in", INPUT, name="question"),
            node("agent", AIAgentBlock.id, **agent_defaults),
            node("out", OUTPUT, name="answer"),
            node("failed", OUTPUT, name="problem"),
            *tools,
        ],
        "links": [
            link("in", "result", "agent", "prompt"),
            link("agent", "finished", "out", "value"),
            link("agent", "error", "failed", "value"),
            *(tool_link("agent", tool["id"]) for tool in tools),
        ],
    }


def _start(client: APIClient, graph: dict[str, Any], question: str = "Go") -> tuple[str, str]:
    created = client.post("/api/graphs", graph, format="json")
    assert created.status_code in (200, 201), created.content
    graph_id = created.json()["id"]
    started = client.post(
        f"/api/graphs/{graph_id}/execute", {"inputs": {"question": question}}, format="json"
    )
    assert started.status_code == 200, started.content
    return graph_id, started.json()["id"]


def _finished(run_id: str, timeout: float = 60) -> GraphExecution:
    wait_for(
        lambda: GraphExecution.objects.get(pk=run_id).is_terminal,
        timeout=timeout,
        what="the agent's run to end",
    )
    return GraphExecution.objects.get(pk=run_id)


def _executions(run_id: str, key: str) -> list[NodeExecution]:
    return list(
        NodeExecution.objects.filter(graph_execution_id=run_id, node__key=key)
        .prefetch_related("outputs")
        .order_by("sequence")
    )


def _tool_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [message for message in request["body"]["messages"] if message["role"] == "tool"]


def test_it_answers_after_two_rounds_of_three_tools_each_a_charged_node_execution(
    agent_worker, openai_server, http_test_server, owner_client: APIClient
) -> None:
    child = owner_client.post("/api/graphs", echo_graph("Echo agent"), format="json").json()
    tools = [
        _labelled("calc", CalculatorBlock.id, "multiply", operation="multiply"),
        _labelled("web", WEB_REQUEST, "fetch json", method="GET"),
        _labelled("sub", AGENT, "echo agent", graph_id=child["id"]),
    ]
    openai_server.script_tool_calls(
        ("multiply", {"a": 6, "b": 7}), ("fetch_json", {"url": f"{http_test_server.url}/json"})
    )
    openai_server.script_tool_calls(("echo_agent", {"inputs": {"topic": "otters"}}))
    openai_server.script("It is 42, the page says world, and the agent said otters.")
    _, run_id = _start(owner_client, _agent_graph(tools, model="gpt-4o"), "What is 6 x 7?")
    run = _finished(run_id)

    assert run.status == "completed", run.error_message
    assert run.outputs == {"answer": ["It is 42, the page says world, and the agent said otters."]}
    # The model saw every tool, described by label, block description and free inputs.
    first = openai_server.requests[0]["body"]
    offered = {tool["function"]["name"]: tool["function"] for tool in first["tools"]}
    assert set(offered) == {"multiply", "fetch_json", "echo_agent"}
    assert offered["multiply"]["description"].startswith("multiply: ")
    assert set(offered["multiply"]["parameters"]["properties"]) == {"a", "b", "round_result"}
    assert "url" in offered["fetch_json"]["parameters"]["required"]
    sub_inputs = offered["echo_agent"]["parameters"]["properties"]["inputs"]
    assert sub_inputs["required"] == ["topic"]  # the child graph's own run inputs
    # Each call is a node execution with the model's arguments and the block's outputs.
    (calc,) = _executions(run_id, "calc")
    assert calc.status == "completed"
    assert (calc.input_data["a"], calc.input_data["b"]) == (6, 7)
    assert [(o.pin, o.value) for o in calc.outputs.all()] == [("result", 42)]
    (web,) = _executions(run_id, "web")
    assert [(o.pin, o.value) for o in web.outputs.all()] == [("response", {"hello": "world"})]
    (sub,) = _executions(run_id, "sub")
    assert sub.status == "completed"
    assert {"outputs": {"answer": "otters"}} in [{o.pin: o.value} for o in sub.outputs.all()]
    # The results went back to the model, in the order of its calls.
    second, third = openai_server.requests[1], openai_server.requests[2]
    assert [json.loads(m["content"]) for m in _tool_messages(second)] == [
        {"result": 42},
        {"response": {"hello": "world"}},
    ]
    assert json.loads(_tool_messages(third)[-1]["content"])["status"] == "completed"
    # Three model calls at gpt-4o's price, the calculator's call at its own; all in the stats.
    (agent,) = _executions(run_id, "agent")
    usage = dict(
        CreditTransaction.objects.filter(graph_exec_id=run_id).values_list(
            "transaction_key", "amount"
        )
    )
    assert usage == {
        f"node:{agent.pk}": -3,
        f"node:{agent.pk}:llm:2": -3,
        f"node:{agent.pk}:llm:3": -3,
        f"node:{calc.pk}": -CALCULATOR_PRICE,
    }
    assert run.stats["cost"] == 9 + CALCULATOR_PRICE
    assert agent.stats["llm_call_count"] == 3
    conversation = next(o.value for o in agent.outputs.all() if o.pin == "conversation")
    assert [m["role"] for m in conversation] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]


def test_it_runs_the_calls_of_one_turn_side_by_side(
    agent_worker, openai_server, owner_client: APIClient
) -> None:
    tools = [_labelled("wait", DELAY, "wait")]
    openai_server.script_tool_calls(
        ("wait", {"seconds": 1, "data": "a"}), ("wait", {"seconds": 1, "data": "b"})
    )
    openai_server.script("done")
    _, run_id = _start(owner_client, _agent_graph(tools))
    run = _finished(run_id)
    assert run.status == "completed"
    first, second = _executions(run_id, "wait")
    assert {first.status, second.status} == {"completed"}
    # Both started before either ended: they ran concurrently.
    assert max(first.started_at, second.started_at) < min(first.ended_at, second.ended_at)
    results = [json.loads(m["content"]) for m in _tool_messages(openai_server.requests[-1])]
    assert results == [{"output": "a"}, {"output": "b"}]


def test_it_ends_with_an_error_at_max_iterations(
    agent_worker, openai_server, owner_client: APIClient
) -> None:
    tools = [_labelled("calc", CalculatorBlock.id, "add")]
    for _ in range(3):
        openai_server.script_tool_calls(("add", {"a": 1, "b": 1}))
    _, run_id = _start(owner_client, _agent_graph(tools, max_iterations=2))
    run = _finished(run_id)
    assert run.outputs["problem"] == ["No final answer after 2 model calls (max_iterations)."]
    assert len(_executions(run_id, "calc")) == 2
    (agent,) = _executions(run_id, "agent")
    assert agent.status == "failed"
    assert run.stats["node_error_count"] == 1


def test_it_returns_malformed_and_unknown_calls_to_the_model(
    agent_worker, openai_server, owner_client: APIClient
) -> None:
    tools = [_labelled("calc", CalculatorBlock.id, "add")]
    openai_server.script_tool_calls(
        ("add", "{not json"), ("nope", {}), ("add", {"a": "six"}), ("add", {"a": 1, "x": 2})
    )
    openai_server.script("I could not use the tools.")
    _, run_id = _start(owner_client, _agent_graph(tools))
    run = _finished(run_id)
    assert run.outputs == {"answer": ["I could not use the tools."]}
    errors = [json.loads(m["content"])["error"] for m in _tool_messages(openai_server.requests[-1])]
    assert "not JSON" in errors[0]
    assert "no tool named 'nope'" in errors[1]
    assert errors[2].startswith("invalid arguments for add: a:")
    assert "'x' was unexpected" in errors[3]
    assert _executions(run_id, "calc") == []  # nothing ran on bad arguments


def test_a_model_that_keeps_calling_badly_ends_with_a_clear_error(
    agent_worker, openai_server, owner_client: APIClient
) -> None:
    tools = [_labelled("calc", CalculatorBlock.id, "add")]
    for _ in range(3):
        openai_server.script_tool_calls(("ghost", {}))
    _, run_id = _start(owner_client, _agent_graph(tools, max_iterations=3))
    run = _finished(run_id)
    assert run.status == "completed"
    (problem,) = run.outputs["problem"]
    assert "No final answer after 3 model calls" in problem
    assert "there is no tool named 'ghost'" in problem


def test_stop_during_a_tool_call_cancels_the_run_within_two_seconds(
    agent_worker, openai_server, owner_client: APIClient
) -> None:
    tools = [_labelled("wait", DELAY, "wait")]
    openai_server.script_tool_calls(("wait", {"seconds": 60}))
    graph_id, run_id = _start(owner_client, _agent_graph(tools))
    wait_for(
        lambda: NodeExecution.objects.filter(
            graph_execution_id=run_id, node__key="wait", status="running"
        ).exists(),
        timeout=30,
        what="the tool call to run",
    )
    stopped_at = time.monotonic()
    response = owner_client.post(f"/api/graphs/{graph_id}/executions/{run_id}/stop")
    assert response.status_code == 200
    run = _finished(run_id, timeout=5)
    assert time.monotonic() - stopped_at < 2.0
    assert run.status == "cancelled"
    (wait,) = _executions(run_id, "wait")
    (agent,) = _executions(run_id, "agent")
    assert (wait.status, agent.status) == ("cancelled", "cancelled")
    assert len(openai_server.requests) == 1  # no model call after the stop


def test_a_classifier_sends_its_value_down_the_chosen_labels_pin_only(
    agent_worker, openai_server, owner_client: APIClient
) -> None:
    graph = {
        "name": "Triage",
        "nodes": [
            node("in", INPUT, name="question"),
            node("sort", AIClassifierBlock.id, labels=["billing", "shipping"]),
            node("billing", OUTPUT, name="billing"),
            node("shipping", OUTPUT, name="shipping"),
        ],
        "links": [
            link("in", "result", "sort", "value"),
            link("sort", "matched_#_billing", "billing", "value"),
            link("sort", "matched_#_shipping", "shipping", "value"),
        ],
    }
    openai_server.script("I think", "Billing")  # one correction, charged as a second call
    _, run_id = _start(owner_client, graph, "Why was I charged twice?")
    run = _finished(run_id)
    assert run.outputs == {"billing": ["Why was I charged twice?"]}
    (sort,) = _executions(run_id, "sort")
    keys = set(
        CreditTransaction.objects.filter(graph_exec_id=run_id).values_list(
            "transaction_key", flat=True
        )
    )
    assert keys == {f"node:{sort.pk}", f"node:{sort.pk}:retry:1"}
    assert run.stats["cost"] == 2


def test_each_tool_call_is_published_live_on_ws(
    agent_worker, openai_server, asgi_server, owner: User, owner_client: APIClient
) -> None:
    tools = [_labelled("wait", DELAY, "wait")]
    openai_server.script_tool_calls(("wait", {"seconds": 1, "data": "slept"}))
    openai_server.script("done")
    graph_id = owner_client.post("/api/graphs", _agent_graph(tools), format="json").json()["id"]
    token = str(AccessToken.for_user(owner))
    with connect(f"{asgi_server.ws_url}/ws?token={token}") as socket:
        run_id = owner_client.post(
            f"/api/graphs/{graph_id}/execute", {"inputs": {"question": "Go"}}, format="json"
        ).json()["id"]
        socket.send(
            json.dumps({"method": "subscribe_graph_execution", "data": {"graph_exec_id": run_id}})
        )
        events: list[dict[str, Any]] = []

        def tool_done() -> bool:
            events.append(json.loads(socket.recv(timeout=30)))
            data = events[-1].get("data") or {}
            return events[-1]["method"] == "node_execution_event" and (
                data.get("node_id"),
                data.get("status"),
            ) == ("wait", "completed")

        wait_for(tool_done, timeout=30, what="the tool call's event")
    final = events[-1]["data"]
    assert final["input_data"]["seconds"] == 1
    assert final["output_data"] == {"output": ["slept"]}
    assert _finished(run_id).status == "completed"
