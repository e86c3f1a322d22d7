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
