"""The web (SPEC §16): a page as clean text or Markdown, its links, RSS/Atom feeds, search
through a SearXNG-compatible JSON endpoint, and GraphQL requests. Every fetch goes through the
context's SSRF-safe client."""

from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urldefrag, urljoin

import feedparser
from bs4 import BeautifulSoup

from apps.graphs.blocks.base import BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.library.data_formats import html_to_markdown
from apps.graphs.blocks.providers import (
    FailureKind,
    ProviderApi,
    ProviderBlock,
    ProviderError,
    fetch_public,
    provider_request,
)

HTML_TYPES = ("text/html", "application/xhtml+xml")
DROPPED_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "nav", "footer")


def _page(context: BlockContext, url: str) -> tuple[str, str]:
    """(body text, content type) of a public page."""
    response = fetch_public(context, url)
    return response.text, response.headers.get("content-type", "").split(";")[0].strip()


class FetchPageBlock(ProviderBlock):
    id = "1372c1aa-d662-4a0d-8275-4f84da504007"
    name = "Fetch Web Page"
    description = (
        "Downloads a public page and outputs its content as clean Markdown or plain text "
        "(scripts, styles and navigation removed) with its title."
    )
    categories = frozenset({BlockCategory.DATA, BlockCategory.TEXT})

    class Input(BlockSchema):
        url: str = SchemaField(description="The page's http(s) URL.")
        output_format: Literal["markdown", "text"] = SchemaField("markdown")

    class Output(BlockOutput):
        content: str = SchemaField(description="The page as Markdown or text.")
        title: str = SchemaField(description="The page's <title>.")

    test_input = [
        {"url": "$PROVIDER_SERVER/web/page.html"},
        {"url": "$PROVIDER_SERVER/web/page.html", "output_format": "text"},
        {"url": "$PROVIDER_SERVER/web/missing.html"},
    ]
    test_output = [
        ("content", lambda md: "# Otters" in md and "[the zoo](" in md and "alert" not in md),
        ("title", "Otter facts"),
        ("content", lambda text: "Otters\n" in text and "[" not in text),
        ("title", "Otter facts"),
        ("error", lambda message: "answered 404 (not found)" in message),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        body, content_type = _page(context, input_data.url)
        if content_type and content_type not in HTML_TYPES:
            yield "content", body
            yield "title", ""
            return
        soup = BeautifulSoup(body, "html.parser")
        title = soup.title.get_text(strip=True) if soup.title else ""
        for tag in soup(DROPPED_TAGS):
            tag.decompose()
        if input_data.output_format == "markdown":
            content = html_to_markdown(str(soup.body or soup))
        else:
            lines = (line.strip() for line in soup.get_text("\n").splitlines())
            content = "\n".join(line for line in lines if line)
        yield "content", content
        yield "title", title


class ExtractLinksBlock(ProviderBlock):
    id = "85994f8b-2464-4d72-b129-0a7c44ec5d10"
    name = "Extract Links"
    description = (
        "Lists the links of a page (fetched from `url`, or given as `html`): absolute URLs "
        "without fragments, each once, with their text."
    )
    categories = frozenset({BlockCategory.DATA})

    class Input(BlockSchema):
        url: str = SchemaField("", description="The page to fetch; or the base of `html`.")
        html: str = SchemaField("", description="HTML to read instead of fetching `url`.")
        same_site_only: bool = SchemaField(False, description="Only links to the page's host.")

    class Output(BlockOutput):
        links: list[dict[str, str]] = SchemaField(description="Every link: {url, text}.")
        link: str = SchemaField(description="Each link's URL, one at a time.")

    test_input = [
        {"url": "$PROVIDER_SERVER/web/page.html", "same_site_only": True},
        {"html": "<a href='/a#x'>A</a><a href='mailto:x@y.z'>m</a>", "url": "https://e.org/p/"},
        {"url": "$PROVIDER_SERVER/web/gone.html"},
    ]
    test_output = [
        (
            "links",
            [
                {"url": "$PROVIDER_SERVER/web/nav.html", "text": "Menu"},
                {"url": "$PROVIDER_SERVER/web/zoo.html", "text": "the zoo"},
            ],
        ),
        ("link", "$PROVIDER_SERVER/web/nav.html"),
        ("link", "$PROVIDER_SERVER/web/zoo.html"),
        ("links", [{"url": "https://e.org/a", "text": "A"}]),
        ("link", "https://e.org/a"),
        ("error", lambda message: message.startswith("The site 127.0.0.1 answered 404")),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        html = input_data.html
        if not html:
            if not input_data.url:
                yield "error", "Give a `url` to fetch or the `html` to read."
                return
            html, _ = _page(context, input_data.url)
        base_host = urljoin(input_data.url, "/") if input_data.url else ""
        links, seen = [], set()
        for anchor in BeautifulSoup(html, "html.parser").find_all("a", href=True):
            href = anchor["href"]
            if not isinstance(href, str):  # a multi-valued attribute; href never is
                continue
            url = urldefrag(urljoin(input_data.url, href.strip())).url
            if not url.startswith(("http://", "https://")) or url in seen:
                continue
            if input_data.same_site_only and not url.startswith(base_host):
                continue
            seen.add(url)
            links.append({"url": url, "text": anchor.get_text(" ", strip=True)})
        yield "links", links
        for link in links:
            yield "link", link["url"]


class ReadFeedBlock(ProviderBlock):
    id = "f59a01d5-e11c-4e8a-9548-26f7b12b4858"
    name = "Read RSS/Atom Feed"
    description = (
        "Reads an RSS or Atom feed (feedparser) and outputs its newest entries: title, link, "
        "published date (ISO 8601), summary and id."
    )
    categories = frozenset({BlockCategory.DATA, BlockCategory.INPUT})

    class Input(BlockSchema):
        url: str = SchemaField(description="The feed's URL.")
        limit: int = SchemaField(20, ge=1, le=500, description="At most this many entries.")

    class Output(BlockOutput):
        entries: list[dict[str, Any]] = SchemaField(description="The entries, newest first.")
        entry: dict[str, Any] = SchemaField(description="Each entry, one at a time.")
        feed_title: str = SchemaField(description="The feed's title.")

    test_input = [
        {"url": "$PROVIDER_SERVER/web/feed.xml", "limit": 1},
        {"url": "$PROVIDER_SERVER/web/page.html"},
    ]
    test_output = [
        ("feed_title", "Otter news"),
        ("entries", lambda entries: [e["title"] for e in entries] == ["Second otter"]),
        ("entry", lambda entry: entry["published"] == "2026-11-02T09:00:00+00:00"),
        ("error", lambda message: "is not an RSS or Atom feed" in message),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        response = fetch_public(context, input_data.url)
        parsed = feedparser.parse(response.content)
        if not parsed.entries and (parsed.bozo or not parsed.feed):
            raise ProviderError(
                f"{input_data.url} is not an RSS or Atom feed.", FailureKind.INVALID_RESPONSE
            )
        entries = [_entry(item) for item in parsed.entries]
        entries.sort(key=lambda entry: entry["published"] or "", reverse=True)
        entries = entries[: input_data.limit]
        yield "feed_title", parsed.feed.get("title", "")
        yield "entries", entries
        for entry in entries:
            yield "entry", entry


def _entry(item: Any) -> dict[str, Any]:
    moment = item.get("published_parsed") or item.get("updated_parsed")
    published = ""
    if moment:
        published = (
            f"{moment.tm_year:04d}-{moment.tm_mon:02d}-{moment.tm_mday:02d}T"
            f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d}+00:00"
        )
    return {
        "title": item.get("title", ""),
        "link": item.get("link", ""),
        "published": published,
        "summary": item.get("summary", ""),
        "id": item.get("id", item.get("link", "")),
    }


SEARXNG = ProviderApi(name="searxng", title="SearXNG", default_base_url="")


class WebSearchBlock(ProviderBlock):
    id = "9509d6e4-6fcb-4796-bc9e-3e68c74420b6"
    name = "Web Search"
    description = (
        "Searches the web through a SearXNG server (or any server answering its JSON API): "
        "your credential gives the server's URL and any headers it needs."
    )
    categories = frozenset({BlockCategory.DATA})
    api = SEARXNG
    credential_types = ("host_headers",)

    class Input(BlockSchema):
        query: str = SchemaField(description="What to search for.", max_length=500)
        max_results: int = SchemaField(10, ge=1, le=100)
        language: str = SchemaField("", description="e.g. en, fr; default the server's.")
        categories: str = SchemaField("", description="e.g. general, news, it.")

    class Output(BlockOutput):
        results: list[dict[str, str]] = SchemaField(description="{title, url, content}.")
        result: dict[str, str] = SchemaField(description="Each result, one at a time.")

    test_input = [
        {"query": "sea otters", "max_results": 1},
        {"query": "fail"},
    ]
    test_output = [
        ("results", [{"title": "Sea otter", "url": "https://en.example.org/otter",
                      "content": "About sea otters"}]),
        ("result", {"title": "Sea otter", "url": "https://en.example.org/otter",
                    "content": "About sea otters"}),
        ("error", lambda message: message.startswith("SearXNG answered 503 (a server error)")),
    ]  # fmt: skip

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        params = {
            "q": input_data.query,
            "format": "json",
            "language": input_data.language,
            "categories": input_data.categories,
        }
        body = self.request(context, "GET", "search", params=params)
        rows = body.get("results") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise ProviderError(
                "SearXNG answered without a result list (is format=json enabled on the server?).",
                FailureKind.INVALID_RESPONSE,
            )
        results = [
            {
                "title": str(row.get("title", "")),
                "url": str(row.get("url", "")),
                "content": str(row.get("content", "")),
            }
            for row in rows[: input_data.max_results]
            if isinstance(row, dict)
        ]
        yield "results", results
        for result in results:
            yield "result", result


class GraphQLRequestBlock(ProviderBlock):
    id = "036dc7dc-9e13-4a16-870c-634edd394d9d"
    name = "GraphQL Request"
    description = (
        "Sends a GraphQL query or mutation with variables to an endpoint and outputs `data`; "
        "GraphQL errors come out on `errors`. Headers (a token…) are secret: never exported."
    )
    categories = frozenset({BlockCategory.DEVELOPER_TOOLS, BlockCategory.DATA})

    class Input(BlockSchema):
        endpoint: str = SchemaField(description="The GraphQL endpoint URL.")
        query: str = SchemaField(description="The query or mutation document.")
        variables: dict[str, Any] = SchemaField({}, description="The operation's variables.")
        headers: dict[str, str] = SchemaField(
            {}, description="e.g. {'Authorization': 'Bearer …'}.", secret=True, advanced=True
        )

    class Output(BlockOutput):
        data: Any = SchemaField(description="The `data` of the answer.")
        errors: list[Any] = SchemaField(description="The answer's GraphQL `errors`, if any.")

    test_input = [
        {"endpoint": "$PROVIDER_SERVER/graphql",
         "query": "query($id: ID!) { otter(id: $id) { name } }", "variables": {"id": "1"},
         "headers": {"Authorization": "Bearer gql-secret"}},
        {"endpoint": "$PROVIDER_SERVER/graphql", "query": "{ broken",
         "headers": {"Authorization": "Bearer gql-secret"}},
        {"endpoint": "$PROVIDER_SERVER/graphql", "query": "{ otter }"},
    ]  # fmt: skip
    test_output = [
        ("data", {"otter": {"name": "Olive"}}),
        ("errors", lambda errors: "Syntax Error" in errors[0]["message"]),
        ("error", lambda message: "answered 401 (the credentials were refused)" in message),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        body = {"query": input_data.query, "variables": input_data.variables}
        api = ProviderApi(name="", title=f"The GraphQL server at {input_data.endpoint[:100]}",
                          default_base_url="")  # fmt: skip
        answer = provider_request(
            context, api, "POST", input_data.endpoint, json=body,
            headers=input_data.headers, anonymous=True,
        )  # fmt: skip
        if not isinstance(answer, dict) or not ("data" in answer or "errors" in answer):
            raise ProviderError(
                f"{api.title} did not answer in GraphQL's shape.", FailureKind.INVALID_RESPONSE
            )
        if answer.get("data") is not None:
            yield "data", answer["data"]
        if answer.get("errors"):
            yield "errors", answer["errors"]
