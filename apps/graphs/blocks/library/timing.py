"""The time in the user's time zone, and waiting."""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext

MAX_DELAY_SECONDS = 3600.0
MAX_OFFSET_DAYS = 36_500


def _now(context: BlockContext) -> datetime:
    return datetime.now(ZoneInfo(context.user_timezone))


def _parses_as(pattern: str) -> Callable[[str], bool]:
    """An example expectation: the clock moves, so examples check the shape, not the value."""

    def check(value: str) -> bool:
        try:
            datetime.strptime(value, pattern)
        except ValueError:
            return False
        return True

    return check


class CurrentTimeBlock(Block):
    id = "b5d8f2a7-1c64-4e39-9a0f-4e7b3c6d8a12"
    name = "Current Time"
    description = (
        "The current time in your time zone, formatted with strftime codes "
        "(%H hours, %M minutes, %S seconds, %z offset, …)."
    )
    categories = frozenset({BlockCategory.TEXT})

    class Input(BlockSchema):
        trigger: Any = SchemaField(None, description="Link anything here to choose when to read.")
        format: str = SchemaField("%H:%M:%S", max_length=200, description="strftime format.")

    class Output(BlockOutput):
        time: str = SchemaField(description="The formatted time.")

    test_input = [{}, {"format": "%H:%M"}]
    test_output = [
        ("time", _parses_as("%H:%M:%S")),
        ("time", _parses_as("%H:%M")),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "time", _now(context).strftime(input_data.format)


class CurrentDateBlock(Block):
    id = "3e7a1c9d-8b52-4f06-b4d1-9c2e5a8f7b63"
    name = "Current Date"
    description = (
        "Today's date in your time zone, moved by offset_days (e.g. -1 for yesterday), "
        "formatted with strftime codes (%Y year, %m month, %d day, %A weekday, …)."
    )
    categories = frozenset({BlockCategory.TEXT})

    class Input(BlockSchema):
        trigger: Any = SchemaField(None, description="Link anything here to choose when to read.")
        offset_days: int = SchemaField(
            0,
            ge=-MAX_OFFSET_DAYS,
            le=MAX_OFFSET_DAYS,
            description="Days to add to today; negative for the past.",
        )
        format: str = SchemaField("%Y-%m-%d", max_length=200, description="strftime format.")

    class Output(BlockOutput):
        date: str = SchemaField(description="The formatted date.")

    test_input = [{}, {"offset_days": -1, "format": "%d/%m/%Y"}]
    test_output = [
        ("date", _parses_as("%Y-%m-%d")),
        ("date", _parses_as("%d/%m/%Y")),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        moment = _now(context) + timedelta(days=input_data.offset_days)
        yield "date", moment.strftime(input_data.format)


class CurrentDateAndTimeBlock(Block):
    id = "7f1c4b8e-2d93-4a65-8e7b-0d5f3a9c6e21"
    name = "Current Date and Time"
    description = (
        "The current date and time in your time zone as ISO 8601 text with the UTC offset, "
        "e.g. 2024-05-01T14:30:00+02:00."
    )
    categories = frozenset({BlockCategory.TEXT})

    class Input(BlockSchema):
        trigger: Any = SchemaField(None, description="Link anything here to choose when to read.")

    class Output(BlockOutput):
        date_time: str = SchemaField(description="The ISO 8601 date and time.")

    test_input = {}
    test_output = [("date_time", _parses_as("%Y-%m-%dT%H:%M:%S%z"))]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "date_time", _now(context).isoformat(timespec="seconds")


class DelayBlock(Block):
    id = "c8e3a6f1-5b47-4d92-a7c8-1e6f9b2d4a05"
    name = "Delay"
    description = (
        "Waits the given number of seconds (at most an hour), then forwards `data`. "
        "Stopping the run ends the wait at once."
    )
    categories = frozenset({BlockCategory.LOGIC})
    # The wait itself may take the whole hour; the default node time limit would cut it short.
    timeout_seconds = MAX_DELAY_SECONDS + 60.0

    class Input(BlockSchema):
        seconds: float = SchemaField(
            1.0, ge=0, le=MAX_DELAY_SECONDS, description="How long to wait, in seconds."
        )
        data: Any = SchemaField(None, description="The value to forward after the wait.")

    class Output(BlockOutput):
        output: Any = SchemaField(description="`data`, after the wait.")

    test_input = {"seconds": 0.01, "data": "later"}
    test_output = [("output", "later")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        context.sleep(input_data.seconds)
        yield "output", input_data.data
