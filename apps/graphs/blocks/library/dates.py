"""Date arithmetic and formatting (SPEC §16 data), in the user's time zone unless the date says
otherwise. dateutil parses and adds calendar units (a month after 31 January is 28/29 February)."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as date_parser
from dateutil.relativedelta import relativedelta

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext

Unit = Literal["seconds", "minutes", "hours", "days", "weeks", "months", "years"]


class DateError(ValueError):
    pass


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DateError(f"Unknown time zone {name!r}.") from None


def parse_date(text: str, zone_name: str) -> datetime:
    """A date and time from (almost) any notation; without an offset, in `zone_name`."""
    try:
        value = date_parser.parse(text)
    except (ValueError, OverflowError):
        raise DateError(f"{text[:100]!r} is not a date.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(zone_name))
    return value


class AddToDateBlock(Block):
    id = "fffbab51-e5c8-481d-aa68-713f1aa6bb37"
    name = "Add to Date"
    description = (
        "Adds (or, with a negative amount, subtracts) seconds … years to a date; months and "
        "years are calendar units. Outputs ISO 8601."
    )
    categories = frozenset({BlockCategory.DATA})
    inline = True

    class Input(BlockSchema):
        date: str = SchemaField(description="The date, e.g. 2026-01-31 or 2026-01-31T09:00+01:00.")
        amount: int = SchemaField(description="How many units to add; negative subtracts.")
        unit: Unit = SchemaField("days", description="The unit of `amount`.")
        timezone: str = SchemaField("", description="For a date without an offset; default yours.")

    class Output(BlockOutput):
        date: str = SchemaField(description="The result, ISO 8601 with its offset.")

    test_input = [
        {"date": "2026-01-31", "amount": 1, "unit": "months", "timezone": "UTC"},
        {"date": "2026-03-01T12:00:00+00:00", "amount": -36, "unit": "hours"},
        {"date": "yesterday-ish", "amount": 1},
    ]
    test_output = [
        ("date", "2026-02-28T00:00:00+00:00"),
        ("date", "2026-02-28T00:00:00+00:00"),
        ("error", lambda message: "is not a date" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            value = parse_date(input_data.date, input_data.timezone or context.user_timezone)
            yield (
                "date",
                # The unit is one of relativedelta's keywords; mypy matches ** against dt1 too.
                (value + relativedelta(**{input_data.unit: input_data.amount})).isoformat(),  # type: ignore[arg-type]
            )
        except (DateError, OverflowError) as exc:
            yield "error", str(exc) if isinstance(exc, DateError) else "The date is out of range."


class DateDifferenceBlock(Block):
    id = "114a348d-a36e-47ff-90a3-80ec4b887311"
    name = "Date Difference"
    description = "The time from `start` to `end` in seconds and days, and as calendar parts."
    categories = frozenset({BlockCategory.DATA})
    inline = True

    class Input(BlockSchema):
        start: str = SchemaField(description="The earlier date (or a later one: negative result).")
        end: str = SchemaField(description="The other date.")

    class Output(BlockOutput):
        seconds: float = SchemaField(description="end - start in seconds.")
        days: float = SchemaField(description="end - start in days.")
        parts: dict[str, int] = SchemaField(description="years, months, days, hours, minutes.")

    test_input = [{"start": "2024-01-15T00:00Z", "end": "2025-03-16T06:30Z"}]
    test_output = [
        ("seconds", 36829800.0),
        ("days", lambda days: round(days, 4) == 426.2708),
        ("parts", {"years": 1, "months": 2, "days": 1, "hours": 6, "minutes": 30}),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            start = parse_date(input_data.start, context.user_timezone)
            end = parse_date(input_data.end, context.user_timezone)
        except DateError as exc:
            yield "error", str(exc)
            return
        seconds = (end - start).total_seconds()
        delta = relativedelta(end, start)
        yield "seconds", seconds
        yield "days", seconds / 86400
        yield (
            "parts",
            {
                name: getattr(delta, name)
                for name in ("years", "months", "days", "hours", "minutes")
            },
        )


class FormatDateBlock(Block):
    id = "57244789-6fa8-430d-990d-3cfd81d56976"
    name = "Format Date"
    description = (
        "Writes a date with a strftime pattern (e.g. `%A %d %B %Y, %H:%M`) in a time zone, "
        "and as ISO 8601 and a Unix timestamp."
    )
    categories = frozenset({BlockCategory.DATA, BlockCategory.TEXT})
    inline = True

    class Input(BlockSchema):
        date: str = SchemaField(description="The date, in any common notation.")
        format: str = SchemaField("%Y-%m-%d %H:%M", description="The strftime pattern.")
        timezone: str = SchemaField("", description="Shown in this zone; default yours.")

    class Output(BlockOutput):
        formatted: str = SchemaField(description="The date in `format`.")
        iso: str = SchemaField(description="ISO 8601 in the zone.")
        timestamp: float = SchemaField(description="Seconds since 1970-01-01 UTC.")

    test_input = [
        {"date": "2026-07-04T12:00:00Z", "format": "%A %d %B %Y, %H:%M",
         "timezone": "Europe/Paris"},
        {"date": "2026-07-04", "timezone": "Mars/Olympus"},
    ]  # fmt: skip
    test_output = [
        ("formatted", "Saturday 04 July 2026, 14:00"),
        ("iso", "2026-07-04T14:00:00+02:00"),
        ("timestamp", 1783166400.0),
        ("error", "Unknown time zone 'Mars/Olympus'."),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            zone = _zone(input_data.timezone or context.user_timezone)
            value = parse_date(input_data.date, zone.key).astimezone(zone)
        except DateError as exc:
            yield "error", str(exc)
            return
        yield "formatted", value.strftime(input_data.format[:200])
        yield "iso", value.isoformat()
        yield "timestamp", value.timestamp()
