"""Human review (SPEC §15): a node that pauses its branch of the run until a person decides.

The block asks the context's review desk. The first time, the desk files the review and the
block ends without output: its execution waits in `review`, and the run too once nothing else
can progress (holding no worker, lease or task). The decision queues the execution again; this
time the desk has the decision and the block yields it.
"""

from collections.abc import Iterator
from typing import Any

import jsonschema

from apps.graphs.blocks.base import (
    Block,
    BlockCategory,
    BlockOutput,
    BlockSchema,
    SchemaField,
)
from apps.graphs.blocks.context import BlockContext

DEFAULT_TIMEOUT_SECONDS = 7 * 86_400
OUTCOME_PINS = {"approved": "approved_data", "rejected": "rejected_data", "timed_out": "timed_out"}


class HumanReviewBlock(Block):
    id = "5f0b8e2c-7a41-4c9e-9d36-1b2e8f4a6c70"
    name = "Human Review"
    description = (
        "Pauses this branch of the run until its owner reviews `data` (in the run page or "
        "through the API): approved → `approved_data` (edited if `editable`), rejected → "
        "`rejected_data`, no decision within `timeout_seconds` → `timed_out`. Other branches "
        "go on meanwhile; a stopped run cancels the review."
    )
    categories = frozenset({BlockCategory.BASIC})
    pauses = True

    class Input(BlockSchema):
        data: Any = SchemaField(description="What the reviewer sees (any JSON).")
        message: str = SchemaField("", description="What to tell the reviewer.")
        editable: bool = SchemaField(True, description="May the reviewer change the data?")
        data_schema: dict[str, Any] | None = SchemaField(
            None,
            description="A JSON Schema that edited data must satisfy.",
            advanced=True,
        )
        timeout_seconds: float = SchemaField(
            DEFAULT_TIMEOUT_SECONDS,
            gt=0,
            le=90 * 86_400,
            description="How long to wait for a decision (default 7 days).",
        )

    class Output(BlockOutput):
        approved_data: Any = SchemaField(description="The data, as approved (maybe edited).")
        rejected_data: Any = SchemaField(description="The data, when the reviewer rejected it.")
        timed_out: Any = SchemaField(description="The data, when nobody decided in time.")
        review_message: str = SchemaField(description="What the reviewer wrote, if anything.")

    test_input = {"data": {"draft": "Hello"}, "message": "Send it?"}
    test_output = [("error", lambda message: "only wait inside a graph execution" in message)]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if context.review is None:
            yield "error", "a human review can only wait inside a graph execution"
            return
        if input_data.data_schema is not None:
            try:
                jsonschema.validators.validator_for(input_data.data_schema).check_schema(
                    input_data.data_schema
                )
            except jsonschema.SchemaError as exc:
                yield "error", f"data_schema is not a valid JSON Schema: {exc.message}"
                return
        decision = context.review.request(
            data=input_data.data,
            message=input_data.message,
            editable=input_data.editable,
            data_schema=input_data.data_schema,
            timeout_seconds=input_data.timeout_seconds,
        )
        if decision is None:
            return  # waits in `review`; runs again once decided
        yield OUTCOME_PINS[decision.outcome], decision.data
        if decision.message:
            yield "review_message", decision.message
