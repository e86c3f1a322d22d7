"""The copilot conversation the tests script on the OpenAI-compatible server: "every morning,
fetch this RSS feed and email me a summary", built from the real catalogue's blocks."""

import json
from typing import Any

from apps.graphs.blocks.library.ai import AITextSummarizerBlock
from apps.graphs.blocks.library.email import SendEmailBlock
from apps.graphs.blocks.library.text import FillTemplateBlock
from apps.graphs.blocks.library.web import ReadFeedBlock
from tests.graphs.graphs import link, node

FEED, DIGEST, SUMMARY, EMAIL = (
    ReadFeedBlock.id,
    FillTemplateBlock.id,
    AITextSummarizerBlock.id,
    SendEmailBlock.id,
)
REQUEST = "Every morning, fetch this RSS feed {url} and email me a summary at ada@example.org"


def feed_graph(feed_url: str, smtp_credential_id: str, *, bad_pin: bool = False) -> dict:
    """feed → template (the entries as text) → summariser → email. `bad_pin` links a feed
    output that does not exist, as a model might."""
    email = node("email", EMAIL, to="ada@example.org", subject="Your morning feed")
    email["metadata"] = {"credentials_id": smtp_credential_id}
    return {
        "nodes": [
            node("feed", FEED, url=feed_url, limit=5),
            node(
                "digest",
                DIGEST,
                format="{% for e in entries %}{{ e.title }}: {{ e.summary }}\n{% endfor %}",
            ),
            node("summary", SUMMARY, style="bullet points"),
            email,
        ],
        "links": [
            link("feed", "items" if bad_pin else "entries", "digest", "values_#_entries"),
            link("digest", "output", "summary", "text"),
            link("summary", "summary", "email", "body"),
        ],
    }


def script_drafting(server: Any, feed_url: str, smtp_credential_id: str) -> None:
    """Search, read schemas, list credentials, one draft the validator refuses, the repaired
    draft proposed, then the answer."""
    server.script_tool_calls(
        ("search_blocks", {"query": "rss feed"}),
        ("search_blocks", {"query": "summarise"}),
        ("search_blocks", {"query": "send email"}),
    )
    server.script_tool_calls(
        ("get_block_schema", {"block_id": FEED}),
        ("get_block_schema", {"block_id": SUMMARY}),
        ("get_block_schema", {"block_id": EMAIL}),
        ("list_credentials", {}),
    )
    server.script_tool_calls(
        ("validate_graph", feed_graph(feed_url, smtp_credential_id, bad_pin=True)),
    )
    server.script_tool_calls(
        (
            "propose_graph",
            {
                "name": "Morning feed digest",
                "description": "Reads the feed, summarises it and emails the summary.",
                **feed_graph(feed_url, smtp_credential_id),
            },
        ),
    )
    server.script("I drafted “Morning feed digest”: open it in the builder and save it.")


def tool_results(events: list[tuple[str, dict]]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for name, data in events:
        if name == "tool_result":
            found.setdefault(data["name"], []).append(data["result"])
    return found


def sent_tools(request: dict) -> list[str]:
    return [tool["function"]["name"] for tool in request["body"].get("tools", [])]


def last_tool_message(request: dict) -> dict:
    messages = request["body"]["messages"]
    return json.loads(next(m for m in reversed(messages) if m["role"] == "tool")["content"])
