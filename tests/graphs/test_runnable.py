"""graphs' one entry point for runs (apps.graphs.selectors.runnable_version / compiled_version):
access, the checks of a run start, and the compilation the worker's engine runs."""

import dataclasses

import pytest

from apps.common.exceptions import GraphValidationFailed, NotFound, ValidationFailed
from apps.executions import runtime
from apps.graphs import runnable
from apps.graphs import services as graph_services
from apps.graphs.compile import graph_spec_from_payload
from apps.graphs.models import GraphVersion
from apps.users.models import User
from tests.graphs.graphs import AGENT, INPUT, OUTPUT, echo_graph, link, node

pytestmark = pytest.mark.django_db


def _save(user: User, payload: dict, **fields) -> GraphVersion:
    return graph_services.graph_create(
        user=user,
        name=payload["name"],
        spec=graph_spec_from_payload(payload["nodes"], payload["links"]),
        **fields,
    )


def _parent(child_id: str) -> dict:
    return {
        "name": "Parent",
        "nodes": [
            node("in", INPUT, name="topic"),
            node("agent", AGENT, graph_id=child_id),
            node("out", OUTPUT, name="answer"),
        ],
        "links": [
            link("in", "result", "agent", "inputs_#_topic"),
            link("agent", "outputs_#_answer", "out", "value"),
        ],
    }


def test_it_compiles_what_the_worker_runs(owner: User) -> None:
    child = _save(owner, echo_graph("Child"))
    parent = _save(owner, _parent(str(child.graph_id)), time_limit_seconds=90)
    found = runnable.runnable_version(
        user=owner, graph_id=parent.graph_id, inputs={"topic": "otters"}
    )

    assert (found.graph_id, found.version, found.name) == (parent.graph_id, 1, "Parent")
    assert found.owner_id == owner.pk
    assert found.time_limit_seconds == 90
    assert found.named_sub_agents == {(str(child.graph_id), None)}
    assert (found.has_sub_agents, found.has_prices) == (True, False)
    assert set(found.rows) == {"in", "agent", "out"}
    assert [n.id for n in found.nodes] == ["in", "agent", "out"]
    assert found.nodes[0].input_default["name"] == "topic"  # a run input knows its name
    # The engine runs what graphs compiled: executions maps each node and link field for field.
    engine = runtime.engine_graph(found)
    for compiled, engine_node in zip(found.nodes, engine.nodes, strict=True):
        assert dataclasses.asdict(engine_node) | {"block": None} == (
            dataclasses.asdict(compiled) | {"block": None}
        )
        assert engine_node.block is compiled.block
    assert [dataclasses.asdict(link) for link in engine.links] == [
        dataclasses.asdict(link) for link in found.spec.links
    ]
    assert runtime.engine_graph(found) is engine  # mapped once per process
    # The sub-agent's tool schema describes the child's run inputs.
    agent = next(n for n in found.nodes if n.id == "agent")
    assert "topic" in agent.input_schema["properties"]["inputs"]["properties"]
    assert runnable.compiled_version(parent.graph_id, 1) is found  # compiled once per process


def test_it_checks_what_a_run_start_checks(owner: User, other_user: User) -> None:
    version = _save(owner, echo_graph())
    with pytest.raises(ValidationFailed, match="inputs must be an object"):
        runnable.runnable_version(user=owner, graph_id=version.graph_id, inputs=[1])
    with pytest.raises(ValidationFailed, match="credentials_inputs"):
        runnable.runnable_version(
            user=owner, graph_id=version.graph_id, inputs={}, credentials_inputs={"x": "nope"}
        )
    with pytest.raises(GraphValidationFailed) as missing:
        runnable.runnable_version(user=owner, graph_id=version.graph_id, inputs={})
    assert missing.value.node_errors
    with pytest.raises(NotFound):  # another user's private graph
        runnable.runnable_version(user=other_user, graph_id=version.graph_id, inputs={})
    with pytest.raises(NotFound):
        runnable.runnable_version(user=owner, graph_id=version.graph_id, version=7)
    with pytest.raises(NotFound):
        runnable.runnable_version(user=owner, graph_id="not-a-uuid")


def test_templates_run_for_everyone_and_vouched_versions_need_an_exact_number(
    owner: User, other_user: User
) -> None:
    template = _save(owner, echo_graph("Template"), is_template=True)
    found = runnable.runnable_version(
        user=other_user, graph_id=template.graph_id, inputs={"topic": "x"}
    )
    assert found.version == 1
    private = _save(owner, echo_graph("Private"))
    vouched = runnable.runnable_version(
        user=other_user,
        graph_id=str(private.graph_id),
        version=1,
        inputs={"topic": "x"},
        access_checked=True,
    )
    assert vouched.graph_id == private.graph_id
    with pytest.raises(ValueError, match="exact graph version"):
        runnable.runnable_version(
            user=other_user, graph_id=private.graph_id, inputs={}, access_checked=True
        )
    with pytest.raises(NotFound):
        runnable.runnable_version(
            user=other_user, graph_id=private.graph_id, version=9, access_checked=True
        )


def test_an_output_runs_inline_unless_it_has_a_template(owner: User) -> None:
    """Agent Output hands its value on (no thread of its own) unless a template formats it: a
    template is the author's code, which runs on a thread its time limit can stop."""
    payload = {
        "name": "Outputs",
        "nodes": [
            node("in", INPUT, name="topic"),
            node("plain", OUTPUT, name="plain"),
            node("formatted", OUTPUT, name="formatted", format="About {{ value }}"),
            node("linked", OUTPUT, name="linked"),
        ],
        "links": [
            link("in", "result", "plain", "value"),
            link("in", "result", "formatted", "value"),
            link("in", "result", "linked", "value"),
            link("in", "result", "linked", "format"),
        ],
    }
    version = _save(owner, payload)
    found = runnable.runnable_version(
        user=owner, graph_id=version.graph_id, inputs={"topic": "otters"}
    )

    inline = {n.id: n.inline for n in found.nodes}
    assert inline == {"in": True, "plain": True, "formatted": False, "linked": False}
