"""Graph payloads for tests, built from the basic blocks."""

from typing import Any

from apps.graphs.blocks.library.basic import (
    AgentInputBlock,
    AgentOutputBlock,
    NoteBlock,
    PrintBlock,
    StoreValueBlock,
)

INPUT = AgentInputBlock.id
OUTPUT = AgentOutputBlock.id
PRINT = PrintBlock.id
STORE = StoreValueBlock.id
NOTE = NoteBlock.id


def node(key: str, block_id: str, **input_default: Any) -> dict[str, Any]:
    return {"id": key, "block_id": block_id, "input_default": input_default, "metadata": {}}


def link(source: str, source_name: str, sink: str, sink_name: str) -> dict[str, Any]:
    return {
        "source_id": source,
        "source_name": source_name,
        "sink_id": sink,
        "sink_name": sink_name,
    }


def echo_graph(name: str = "Echo") -> dict[str, Any]:
    """input(topic) → print → output(answer)"""
    return {
        "name": name,
        "description": "Prints its input and returns it.",
        "nodes": [
            node("in", INPUT, name="topic"),
            node("print", PRINT),
            node("out", OUTPUT, name="answer"),
        ],
        "links": [link("in", "result", "print", "text"), link("print", "output", "out", "value")],
    }


DELAY = "c8e3a6f1-5b47-4d92-a7c8-1e6f9b2d4a05"
WEB_REQUEST = "d0767bc2-7edb-447a-8fb1-51be20ca8f82"
AGENT = "e189baac-8c20-45a1-94a7-55177ea42565"


def delay_graph(seconds: float, name: str = "Slow") -> dict[str, Any]:
    """input(topic) → delay(seconds) → output(answer)"""
    return {
        "name": name,
        "nodes": [
            node("in", INPUT, name="topic"),
            node("wait", DELAY, seconds=seconds),
            node("out", OUTPUT, name="answer"),
        ],
        "links": [link("in", "result", "wait", "data"), link("wait", "output", "out", "value")],
    }
