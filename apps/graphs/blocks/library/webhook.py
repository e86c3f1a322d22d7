"""The Webhook Trigger: a graph with one is started by calls to its ingress URL (SPEC §3, §12)."""

from collections.abc import Iterator
from typing import Any

from apps.graphs.blocks.base import (
    Block,
    BlockCategory,
    BlockOutput,
    BlockSchema,
    BlockType,
    SchemaField,
)
from apps.graphs.blocks.context import BlockContext

DEFAULT_HEADERS_OF_INTEREST = ("content-type", "user-agent")


class WebhookTriggerBlock(Block):
    id = "ac9cd593-d6f8-48bf-8d47-264b02d5316b"
    name = "Webhook Trigger"
    description = (
        "Starts the graph when its ingress URL receives a signed call; outputs the request's "
        "body (JSON or form), the headers of interest and the query parameters."
    )
    categories = frozenset({BlockCategory.INPUT, BlockCategory.DEVELOPER_TOOLS})
    block_type = BlockType.WEBHOOK
    static_output = True

    class Input(BlockSchema):
        name: str = SchemaField(
            "webhook",
            description="The key of the incoming request in the run's inputs.",
            advanced=True,
        )
        value: dict[str, Any] | None = SchemaField(
            None,
            description=(
                "The incoming request, filled by the ingress: "
                '{"body": …, "headers": {…}, "query": {…}}.'
            ),
        )
        headers: list[str] = SchemaField(
            list(DEFAULT_HEADERS_OF_INTEREST),
            description="Request headers to pass on (case-insensitive); others are dropped.",
        )

    class Output(BlockOutput):
        payload: dict[str, Any] = SchemaField(
            description='The call: {"body": …, "headers": {…}, "query": {…}}.'
        )
        body: Any = SchemaField(description="The request body: parsed JSON, form fields or text.")
        headers: dict[str, str] = SchemaField(description="The headers of interest it carried.")
        query: dict[str, Any] = SchemaField(description="The query parameters.")

    test_input = {
        "value": {
            "body": {"event": "push"},
            "headers": {"Content-Type": "application/json", "X-Other": "dropped"},
            "query": {"source": "ci"},
        }
    }
    test_output = [
        (
            "payload",
            {
                "body": {"event": "push"},
                "headers": {"content-type": "application/json"},
                "query": {"source": "ci"},
            },
        ),
        ("body", {"event": "push"}),
        ("headers", {"content-type": "application/json"}),
        ("query", {"source": "ci"}),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        request = input_data.value
        if request is None:
            yield "error", "No request: this node is filled by calls to the graph's webhook."
            return
        wanted = {name.lower() for name in input_data.headers}
        headers = {
            str(name).lower(): str(value)
            for name, value in (request.get("headers") or {}).items()
            if str(name).lower() in wanted
        }
        payload = {
            "body": request.get("body"),
            "headers": headers,
            "query": dict(request.get("query") or {}),
        }
        yield "payload", payload
        yield "body", payload["body"]
        yield "headers", headers
        yield "query", payload["query"]
