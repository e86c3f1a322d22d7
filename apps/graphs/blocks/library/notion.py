"""Notion (SPEC §16 productivity): create pages, query databases, read a page's text, with an
internal integration token or an OAuth2 connection."""

from collections.abc import Iterator
from typing import Any

from apps.graphs.blocks.base import BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.providers import ProviderApi, ProviderBlock

NOTION = ProviderApi(
    name="notion",
    title="Notion",
    default_base_url="https://api.notion.com/v1",
    headers={"Notion-Version": "2022-06-28"},
)
CATEGORIES = frozenset({BlockCategory.DATA, BlockCategory.COMMUNICATION})
TEXT_BLOCKS = (
    "paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item",
    "numbered_list_item", "to_do", "quote", "callout", "toggle", "code",
)  # fmt: skip
PREFIX = {"heading_1": "# ", "heading_2": "## ", "heading_3": "### ", "bulleted_list_item": "- ",
          "numbered_list_item": "1. ", "quote": "> "}  # fmt: skip


def _plain(rich_text: list[dict[str, Any]] | None) -> str:
    return "".join(part.get("plain_text", "") for part in rich_text or [])


def _property_value(prop: dict[str, Any]) -> Any:
    """A database property as a plain value (text, number, list of names…)."""
    kind = prop.get("type", "")
    value = prop.get(kind)
    if kind in ("title", "rich_text"):
        return _plain(value)
    if kind in ("select", "status"):
        return (value or {}).get("name")
    if kind == "multi_select":
        return [option.get("name") for option in value or []]
    if kind == "date":
        return (value or {}).get("start")
    if kind == "people":
        return [person.get("name") or person.get("id") for person in value or []]
    return value


def _paragraphs(text: str) -> list[dict[str, Any]]:
    """Page content: one paragraph per line (Notion limits a text run to 2000 characters)."""
    blocks = []
    for line in text.splitlines():
        runs = [line[i : i + 2000] for i in range(0, len(line), 2000)] or [""]
        rich_text = [{"type": "text", "text": {"content": run}} for run in runs]
        blocks.append(
            {"object": "block", "type": "paragraph", "paragraph": {"rich_text": rich_text}}
        )
    return blocks[:100]


class NotionBlock(ProviderBlock):
    api = NOTION
    credential_types = ("api_key", "oauth2")
    categories = CATEGORIES


class NotionCreatePageBlock(NotionBlock):
    id = "0070f1c4-977a-4742-8e46-dc475e77cebb"
    name = "Notion: Create Page"
    description = (
        "Creates a page in a database (its title property set, plus any other properties) or "
        "under a page, with text content."
    )

    class Input(BlockSchema):
        parent_id: str = SchemaField(description="The database's or parent page's id.")
        parent_is_database: bool = SchemaField(True, description="Off: the parent is a page.")
        title: str = SchemaField(description="The page's title.")
        title_property: str = SchemaField("Name", description="The database's title column.")
        content: str = SchemaField("", description="Text of the page, one paragraph a line.")
        properties: dict[str, Any] = SchemaField(
            {}, description="Other properties in Notion's format.", advanced=True
        )

    class Output(BlockOutput):
        page_id: str = SchemaField(description="The new page's id.")
        url: str = SchemaField(description="Its link.")

    test_input = [
        {"parent_id": "db-1", "title": "Olive", "content": "Sea otter\nLikes clams"},
        {"parent_id": "missing", "title": "x"},
    ]
    test_output = [
        ("page_id", "page-1"),
        ("url", "https://notion.example/page-1"),
        ("error", "Notion answered 404 (not found): Could not find the object."),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        title = [{"type": "text", "text": {"content": input_data.title[:2000]}}]
        if input_data.parent_is_database:
            parent = {"database_id": input_data.parent_id}
            properties = {**input_data.properties, input_data.title_property: {"title": title}}
        else:
            parent = {"page_id": input_data.parent_id}
            properties = {"title": {"title": title}}
        body: dict[str, Any] = {"parent": parent, "properties": properties}
        if input_data.content:
            body["children"] = _paragraphs(input_data.content)
        page = self.request(context, "POST", "pages", json=body)
        yield "page_id", page.get("id", "")
        yield "url", page.get("url", "")


class NotionQueryDatabaseBlock(NotionBlock):
    id = "7c9abd91-f2f5-4fc0-9122-91f0e9ac8d9a"
    name = "Notion: Query Database"
    description = (
        "Lists a database's rows (optionally filtered and sorted in Notion's format) with "
        "their properties as plain values."
    )

    class Input(BlockSchema):
        database_id: str = SchemaField(description="The database's id.")
        filter: dict[str, Any] = SchemaField({}, description="A Notion filter object.")
        sorts: list[dict[str, Any]] = SchemaField([], advanced=True)
        limit: int = SchemaField(50, ge=1, le=100)

    class Output(BlockOutput):
        rows: list[dict[str, Any]] = SchemaField(description="{id, url, properties}.")
        row: dict[str, Any] = SchemaField(description="Each row, one at a time.")

    test_input = [{"database_id": "db-1"}, {"database_id": "missing"}]
    test_output = [
        ("rows", [{"id": "row-1", "url": "https://notion.example/row-1",
                   "properties": {"Name": "Olive", "Count": 3, "Tags": ["sea"]}}]),
        ("row", lambda row: row["properties"]["Name"] == "Olive"),
        ("error", lambda message: message.startswith("Notion answered 404")),
    ]  # fmt: skip

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        body: dict[str, Any] = {"page_size": input_data.limit}
        if input_data.filter:
            body["filter"] = input_data.filter
        if input_data.sorts:
            body["sorts"] = input_data.sorts
        answer = self.request(
            context, "POST", f"databases/{input_data.database_id.strip()}/query", json=body
        )
        rows = [
            {"id": page.get("id", ""), "url": page.get("url", ""),
             "properties": {name: _property_value(prop)
                            for name, prop in (page.get("properties") or {}).items()}}
            for page in answer.get("results") or []
        ]  # fmt: skip
        yield "rows", rows
        for row in rows:
            yield "row", row


class NotionReadPageBlock(NotionBlock):
    id = "82cb21f8-fd94-4a89-810f-d7548158bac5"
    name = "Notion: Read Page"
    description = "Reads a page's content as Markdown-like text (headings, lists, to-dos)."

    class Input(BlockSchema):
        page_id: str = SchemaField(description="The page's id.")

    class Output(BlockOutput):
        text: str = SchemaField(description="The page's text.")

    test_input = [{"page_id": "page-1"}, {"page_id": "missing"}]
    test_output = [
        ("text", "# Otters\nThey swim.\n- [x] feed"),
        ("error", lambda message: "Could not find" in message),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        answer = self.request(
            context,
            "GET",
            f"blocks/{input_data.page_id.strip()}/children",
            params={"page_size": 100},
        )
        lines = []
        for block in answer.get("results") or []:
            kind = block.get("type", "")
            if kind not in TEXT_BLOCKS:
                continue
            content = block.get(kind) or {}
            text = _plain(content.get("rich_text"))
            if kind == "to_do":
                text = f"- [{'x' if content.get('checked') else ' '}] {text}"
            lines.append(PREFIX.get(kind, "") + text)
        yield "text", "\n".join(lines)
