"""Google (SPEC §16 productivity): Sheets read/append, Gmail send, Calendar events, with an
OAuth2 connection (tokens refreshed before expiry and once on a 401)."""

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any, Literal
from urllib.parse import quote

from apps.graphs.blocks.base import BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.providers import FailureKind, ProviderApi, ProviderBlock, ProviderError

REGISTRY_BASE = "https://www.googleapis.com"  # apps.integrations.providers: "google"
SHEETS = ProviderApi("google", "Google Sheets", "https://sheets.googleapis.com",
                     registry_base_url=REGISTRY_BASE)  # fmt: skip
GMAIL = ProviderApi("google", "Gmail", "https://gmail.googleapis.com",
                    registry_base_url=REGISTRY_BASE)  # fmt: skip
CALENDAR = ProviderApi("google", "Google Calendar", REGISTRY_BASE, registry_base_url=REGISTRY_BASE)


class GoogleBlock(ProviderBlock):
    credentials_provider = "google"
    credential_types = ("oauth2",)
    categories = frozenset({BlockCategory.DATA})


def _range(spreadsheet_id: str, cell_range: str) -> str:
    sheet, cells = quote(spreadsheet_id.strip(), safe=""), quote(cell_range, safe="!:")
    return f"v4/spreadsheets/{sheet}/values/{cells}"


class SheetsReadBlock(GoogleBlock):
    id = "c5fa3e94-5fed-4eed-8031-a0ea3eb2fd87"
    name = "Google Sheets: Read"
    description = (
        "Reads a range of a spreadsheet: the rows as lists, and as dictionaries keyed by the "
        "first row."
    )
    api = SHEETS

    class Input(BlockSchema):
        spreadsheet_id: str = SchemaField(description="The id in the sheet's URL.")
        range: str = SchemaField("Sheet1", description="A1 notation, e.g. Sheet1!A1:D50.")

    class Output(BlockOutput):
        values: list[list[Any]] = SchemaField(description="The rows as lists of cells.")
        records: list[dict[str, Any]] = SchemaField(description="Rows after the first, by header.")

    test_input = [{"spreadsheet_id": "sheet-1"}, {"spreadsheet_id": "missing"}]
    test_output = [
        ("values", [["name", "age"], ["Ada", "36"]]),
        ("records", [{"name": "Ada", "age": "36"}]),
        ("error", "Google Sheets answered 404 (not found): Requested entity was not found."),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        answer = self.request(context, "GET", _range(input_data.spreadsheet_id, input_data.range))
        values = answer.get("values") or []
        header = [str(cell) for cell in values[0]] if values else []
        yield "values", values
        yield "records", [dict(zip(header, row, strict=False)) for row in values[1:]]


class SheetsAppendBlock(GoogleBlock):
    id = "c7ce8dfe-3651-4fa9-bf55-bdd92fbc2762"
    name = "Google Sheets: Append Rows"
    description = "Appends rows after the last row of a range (values parsed as if typed)."
    api = SHEETS

    class Input(BlockSchema):
        spreadsheet_id: str = SchemaField(description="The id in the sheet's URL.")
        range: str = SchemaField("Sheet1", description="The sheet (or table range) to extend.")
        rows: list[list[Any]] = SchemaField(description="The rows, each a list of cells.")

    class Output(BlockOutput):
        updated_rows: int = SchemaField(description="How many rows were added.")
        updated_range: str = SchemaField(description="Where they went.")

    test_input = [
        {"spreadsheet_id": "sheet-1", "rows": [["Alan", 41]]},
        {"spreadsheet_id": "sheet-1", "rows": []},
        {"spreadsheet_id": "missing", "rows": [["x"]]},
    ]
    test_output = [
        ("updated_rows", 1),
        ("updated_range", "Sheet1!A3"),
        ("error", "No rows to append."),
        ("error", lambda message: message.startswith("Google Sheets answered 404 (not found)")),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if not input_data.rows:
            raise ProviderError("No rows to append.", FailureKind.CLIENT_ERROR)
        path = _range(input_data.spreadsheet_id, input_data.range) + ":append"
        answer = self.request(
            context,
            "POST",
            path,
            params={"valueInputOption": "USER_ENTERED", "insertDataOption": "INSERT_ROWS"},
            json={"values": input_data.rows},
        )
        updates = answer.get("updates") or {}
        yield "updated_rows", int(updates.get("updatedRows", 0))
        yield "updated_range", updates.get("updatedRange", "")


class GmailSendBlock(GoogleBlock):
    id = "712c8382-b6bd-42b7-9817-3afa25ba66cf"
    name = "Gmail: Send Email"
    description = "Sends an email from your connected Gmail account."
    api = GMAIL
    categories = frozenset({BlockCategory.COMMUNICATION})

    class Input(BlockSchema):
        to: str | list[str] = SchemaField(description="One address, or several.")
        subject: str = SchemaField(description="The subject.", max_length=998)
        body: str = SchemaField(description="The message.")
        body_format: Literal["text", "html"] = SchemaField("text")

    class Output(BlockOutput):
        message_id: str = SchemaField(description="Gmail's id of the sent message.")
        thread_id: str = SchemaField(description="Its thread.")

    test_input = [
        {"to": ["ada@example.org"], "subject": "Otters", "body": "Two at noon."},
        {"to": "nobody", "subject": "x", "body": "y"},
        {"to": "bounce@example.org", "subject": "x", "body": "y"},
    ]
    test_output = [
        ("message_id", "msg-1"),
        ("thread_id", "thread-1"),
        ("error", "No valid recipient address in `to`."),
        ("error", "Gmail answered 400 (the request was refused as invalid): Invalid To header."),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        items = input_data.to if isinstance(input_data.to, list) else [input_data.to]
        to = [address for _, address in getaddresses(items) if "@" in address]
        if not to:
            raise ProviderError("No valid recipient address in `to`.", FailureKind.CLIENT_ERROR)
        message = EmailMessage()
        message["To"], message["Subject"] = ", ".join(to), input_data.subject
        subtype = "html" if input_data.body_format == "html" else "plain"
        message.set_content(input_data.body, subtype=subtype)
        raw = base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
        answer = self.request(context, "POST", "gmail/v1/users/me/messages/send", json={"raw": raw})
        yield "message_id", answer.get("id", "")
        yield "thread_id", answer.get("threadId", "")


def _event(item: dict[str, Any]) -> dict[str, Any]:
    start, end = item.get("start") or {}, item.get("end") or {}
    return {
        "id": item.get("id", ""),
        "summary": item.get("summary", ""),
        "start": start.get("dateTime") or start.get("date", ""),
        "end": end.get("dateTime") or end.get("date", ""),
        "location": item.get("location", ""),
        "url": item.get("htmlLink", ""),
    }


class CalendarListEventsBlock(GoogleBlock):
    id = "ac828588-859d-4d91-b524-004ecc5b1966"
    name = "Google Calendar: List Events"
    description = "Lists a calendar's upcoming events (from now, or from `start`), in order."
    api = CALENDAR

    class Input(BlockSchema):
        calendar_id: str = SchemaField("primary", description="primary, or a calendar's id.")
        start: str = SchemaField("", description="ISO 8601; now when empty.")
        limit: int = SchemaField(10, ge=1, le=250)

    class Output(BlockOutput):
        events: list[dict[str, Any]] = SchemaField(
            description="{id, summary, start, end, location, url}."
        )
        event: dict[str, Any] = SchemaField(description="Each event, one at a time.")

    test_input = [{}, {"calendar_id": "missing"}]
    test_output = [
        ("events", lambda events: [e["summary"] for e in events] == ["Otter watch"]),
        ("event", lambda event: event["start"] == "2026-12-05T10:00:00Z"),
        ("error", lambda message: message.startswith("Google Calendar answered 404")),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        start = input_data.start or datetime.now(UTC).isoformat().replace("+00:00", "Z")
        answer = self.request(
            context,
            "GET",
            f"calendar/v3/calendars/{quote(input_data.calendar_id, safe='')}/events",
            params={"timeMin": start, "maxResults": input_data.limit, "singleEvents": "true",
                    "orderBy": "startTime"},
        )  # fmt: skip
        events = [_event(item) for item in answer.get("items") or []]
        yield "events", events
        for event in events:
            yield "event", event


class CalendarCreateEventBlock(GoogleBlock):
    id = "341fbc50-88fb-412a-b4e5-197aeb0635fa"
    name = "Google Calendar: Create Event"
    description = "Adds an event to a calendar (times in ISO 8601, with an offset or a zone)."
    api = CALENDAR

    class Input(BlockSchema):
        calendar_id: str = SchemaField("primary")
        summary: str = SchemaField(description="The event's title.")
        start: str = SchemaField(description="e.g. 2026-12-05T10:00:00+01:00")
        end: str = SchemaField(description="e.g. 2026-12-05T11:00:00+01:00")
        timezone: str = SchemaField("", description="For times without an offset; default yours.")
        description: str = SchemaField("", advanced=True)
        location: str = SchemaField("", advanced=True)

    class Output(BlockOutput):
        event_id: str = SchemaField(description="The new event's id.")
        url: str = SchemaField(description="Its link.")

    test_input = [
        {"summary": "Feed otters", "start": "2026-12-06T10:00:00", "end": "2026-12-06T10:30:00"},
        {"summary": "x", "start": "2026-12-06T10:00:00", "end": "2026-12-06T09:00:00"},
        {"calendar_id": "missing", "summary": "x", "start": "2026-12-06T10:00:00",
         "end": "2026-12-06T11:00:00"},
    ]  # fmt: skip
    test_output = [
        ("event_id", "evt-2"),
        ("url", "https://calendar.example/evt-2"),
        ("error", "The event ends before it starts."),
        ("error", lambda message: message.startswith("Google Calendar answered 404")),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            start, end = (
                datetime.fromisoformat(input_data.start),
                datetime.fromisoformat(input_data.end),
            )
        except ValueError:
            raise ProviderError(
                "`start` and `end` must be ISO 8601 times.", FailureKind.CLIENT_ERROR
            ) from None
        if (end.tzinfo is None) != (start.tzinfo is None) or end <= start:
            raise ProviderError("The event ends before it starts.", FailureKind.CLIENT_ERROR)
        zone = input_data.timezone or context.user_timezone
        body = {
            "summary": input_data.summary,
            "description": input_data.description,
            "location": input_data.location,
            "start": {"dateTime": input_data.start, "timeZone": zone},
            "end": {"dateTime": input_data.end, "timeZone": zone},
        }
        path = f"calendar/v3/calendars/{quote(input_data.calendar_id, safe='')}/events"
        created = self.request(context, "POST", path, json=body)
        yield "event_id", created.get("id", "")
        yield "url", created.get("htmlLink", "")
