"""Flow (SPEC §16): route a value to one of N branches, wait for several values at once, and
tell the run's owner something."""

import re
from collections.abc import Iterator
from typing import Any, Literal

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext

MAX_BRANCHES = 8


class _SwitchOutput(BlockOutput):
    matched: int = SchemaField(description="The index of the case that matched; -1 for none.")
    default: Any = SchemaField(description="The value, when no case matched.")


# branch_0 … branch_7: declared pins, so links to them are checked like any other.
SwitchOutput = type(
    "SwitchOutput",
    (_SwitchOutput,),
    {
        "__annotations__": {f"branch_{i}": Any for i in range(MAX_BRANCHES)},
        **{
            f"branch_{i}": SchemaField(description=f"The value, when case {i} matched.")
            for i in range(MAX_BRANCHES)
        },
    },
)


def _case_matches(value: Any, case: Any, mode: str) -> bool:
    if mode == "equals":
        return value == case or (isinstance(value, int | float) and str(value) == str(case))
    text, pattern = str(value), str(case)
    if mode == "contains":
        return pattern.casefold() in text.casefold()
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


class SwitchBlock(Block):
    id = "5c541e50-2e5e-4492-88bb-7ac8c41e6171"
    name = "Switch"
    description = (
        f"Routes a value to the branch of the first case it matches (up to {MAX_BRANCHES}: "
        "branch_0 …), else to `default`: equal to the case, containing it, or matching it as a "
        "regular expression. With `route_by` set, the cases are compared with that field of a "
        "dictionary value."
    )
    categories = frozenset({BlockCategory.LOGIC})
    inline = True

    class Input(BlockSchema):
        value: Any = SchemaField(description="What is routed.")
        cases: list[Any] = SchemaField(description="The cases, in order; the first match wins.")
        mode: Literal["equals", "contains", "regex"] = SchemaField("equals")
        route_by: str = SchemaField("", description="Compare this key of a dictionary value.")

    Output = SwitchOutput

    test_input = [
        {"value": "refund please", "cases": ["invoice", "refund"], "mode": "contains"},
        {"value": {"kind": 3, "body": "x"}, "cases": [1, 2, 3], "route_by": "kind"},
        {"value": "zzz", "cases": ["a"]},
        {"value": 1, "cases": list(range(9))},
    ]
    test_output = [
        ("matched", 1),
        ("branch_1", "refund please"),
        ("matched", 2),
        ("branch_2", {"kind": 3, "body": "x"}),
        ("matched", -1),
        ("default", "zzz"),
        ("error", lambda message: "at most 8 cases" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if len(input_data.cases) > MAX_BRANCHES:
            yield (
                "error",
                f"A switch has at most {MAX_BRANCHES} cases; got {len(input_data.cases)}.",
            )
            return
        compared = input_data.value
        if input_data.route_by:
            compared = compared.get(input_data.route_by) if isinstance(compared, dict) else None
        for index, case in enumerate(input_data.cases):
            if _case_matches(compared, case, input_data.mode):
                yield "matched", index
                yield f"branch_{index}", input_data.value
                return
        yield "matched", -1
        yield "default", input_data.value


class JoinBlock(Block):
    id = "7c4fb38e-13e1-48dc-b8f7-762f8cfba40d"
    name = "Wait for All (Join)"
    description = (
        "Waits until every value linked to values_#_<name> has arrived, then outputs them "
        "together: as a dictionary by name and as a list in name order."
    )
    categories = frozenset({BlockCategory.LOGIC, BlockCategory.DATA})
    inline = True

    class Input(BlockSchema):
        values: dict[str, Any] = SchemaField(
            description="Link each branch to values_#_<name>; the node runs once all arrived."
        )

    class Output(BlockOutput):
        joined: dict[str, Any] = SchemaField(description="Every value by its name.")
        items: list[Any] = SchemaField(description="The values in order of their names.")

    test_input = {"values": {"b_summary": "S", "a_title": "T"}}
    test_output = [
        ("joined", {"b_summary": "S", "a_title": "T"}),
        ("items", ["T", "S"]),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "joined", input_data.values
        yield "items", [input_data.values[name] for name in sorted(input_data.values)]


class NotifyOwnerBlock(Block):
    id = "2bf2fe31-345e-4269-9926-7949dbe01331"
    name = "Notify Owner"
    description = (
        "Sends a notification to the agent's owner: in the app, live, and by email under "
        "their notification settings."
    )
    categories = frozenset({BlockCategory.OUTPUT, BlockCategory.COMMUNICATION})

    class Input(BlockSchema):
        title: str = SchemaField(description="The notification's title.", max_length=200)
        message: str = SchemaField("", description="Its text.", max_length=5000)
        level: Literal["info", "success", "warning", "error"] = SchemaField("info")

    class Output(BlockOutput):
        notification_id: str = SchemaField(description="The notification's id.")

    test_input = {"title": "Report ready", "message": "3 new leads."}
    test_output = [("notification_id", lambda value: len(value) == 36)]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if context.notifier is None:
            yield "error", "Notifications are not available here."
            return
        yield (
            "notification_id",
            context.notifier.notify(
                title=input_data.title, message=input_data.message, level=input_data.level
            ),
        )
