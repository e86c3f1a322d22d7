"""Data formats (SPEC §16 data): CSV, XML, YAML, JMESPath queries, Markdown and HTML, hashes
and base64, each through the maintained library of its format."""

import base64
import binascii
import csv
import hashlib
import io
from collections.abc import Iterator
from typing import Any, Literal

import html2text
import jmespath
import markdown
import nh3
import yaml
from defusedxml import ElementTree
from jmespath.exceptions import JMESPathError

from apps.graphs.blocks.base import Block, BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext

MAX_TEXT = 5_000_000  # characters a format block reads; more is refused, not truncated


def _too_long(text: str) -> str | None:
    return (
        f"The input is {len(text)} characters; the limit is {MAX_TEXT}."
        if len(text) > MAX_TEXT
        else None
    )


class CsvToListBlock(Block):
    id = "ef5f13e2-7d95-4b31-91ff-8bae23af9181"
    name = "Read CSV"
    description = (
        "Parses CSV text into rows: dictionaries keyed by the header row, or lists when "
        "`has_header` is off. Each row is also yielded on `row`."
    )
    categories = frozenset({BlockCategory.DATA, BlockCategory.TEXT})
    inline = True

    class Input(BlockSchema):
        text: str = SchemaField(description="The CSV text.")
        delimiter: str = SchemaField(",", description="One character between fields.")
        has_header: bool = SchemaField(True, description="The first row names the columns.")

    class Output(BlockOutput):
        rows: list[Any] = SchemaField(description="Every row.")
        row: Any = SchemaField(description="Each row, one at a time.")

    test_input = [
        {"text": "name,age\nAda,36\nAlan,41\n"},
        {"text": "a;b\n1;2", "delimiter": ";", "has_header": False},
        {"text": "x", "delimiter": "ab"},
    ]
    test_output = [
        ("rows", [{"name": "Ada", "age": "36"}, {"name": "Alan", "age": "41"}]),
        ("row", {"name": "Ada", "age": "36"}),
        ("row", {"name": "Alan", "age": "41"}),
        ("rows", [["a", "b"], ["1", "2"]]),
        ("row", ["a", "b"]),
        ("row", ["1", "2"]),
        ("error", lambda message: "one character" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if len(input_data.delimiter) != 1:
            yield "error", "The delimiter must be exactly one character."
            return
        if problem := _too_long(input_data.text):
            yield "error", problem
            return
        stream = io.StringIO(input_data.text)
        try:
            if input_data.has_header:
                rows: list[Any] = list(csv.DictReader(stream, delimiter=input_data.delimiter))
            else:
                rows = list(csv.reader(stream, delimiter=input_data.delimiter))
        except csv.Error as exc:
            yield "error", f"The CSV is malformed: {exc}"
            return
        yield "rows", rows
        for row in rows:
            yield "row", row


class ListToCsvBlock(Block):
    id = "9a44a6f3-b060-4684-92d0-f919329aa7d0"
    name = "Write CSV"
    description = (
        "Writes rows as CSV text: dictionaries under a header of their keys (in first-seen "
        "order), or lists as they are."
    )
    categories = frozenset({BlockCategory.DATA, BlockCategory.TEXT})
    inline = True

    class Input(BlockSchema):
        rows: list[Any] = SchemaField(description="Dictionaries or lists.")
        delimiter: str = SchemaField(",", description="One character between fields.")

    class Output(BlockOutput):
        csv: str = SchemaField(description="The CSV text.")

    test_input = [
        {"rows": [{"name": "Ada", "age": 36}, {"name": "Alan", "city": "Wilmslow"}]},
        {"rows": [[1, "a,b"]]},
        {"rows": [1, 2]},
    ]
    test_output = [
        ("csv", "name,age,city\r\nAda,36,\r\nAlan,,Wilmslow\r\n"),
        ("csv", '1,"a,b"\r\n'),
        ("error", lambda message: "dictionaries or all lists" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        rows, out = input_data.rows, io.StringIO()
        if len(input_data.delimiter) != 1:
            yield "error", "The delimiter must be exactly one character."
            return
        if all(isinstance(row, dict) for row in rows):
            columns = list(dict.fromkeys(key for row in rows for key in row))
            writer = csv.DictWriter(out, fieldnames=columns, delimiter=input_data.delimiter)
            writer.writeheader()
            writer.writerows(rows)
        elif all(isinstance(row, list) for row in rows):
            csv.writer(out, delimiter=input_data.delimiter).writerows(rows)
        else:
            yield "error", "The rows must be all dictionaries or all lists."
            return
        yield "csv", out.getvalue()


def _element_to_dict(element: Any) -> Any:
    """Attributes as `@name`, repeated children as lists, text as `#text` (or the value)."""
    children: dict[str, Any] = {}
    for child in element:
        value = _element_to_dict(child)
        tag = child.tag
        if tag in children:
            if not isinstance(children[tag], list):
                children[tag] = [children[tag]]
            children[tag].append(value)
        else:
            children[tag] = value
    attributes = {f"@{name}": value for name, value in element.attrib.items()}
    text = (element.text or "").strip()
    if not children and not attributes:
        return text
    result = {**attributes, **children}
    if text:
        result["#text"] = text
    return result


class XmlToDictBlock(Block):
    id = "fb66ed24-9d94-4acf-9f44-68342089a2ce"
    name = "Parse XML"
    description = (
        "Parses XML into a dictionary (attributes as @name, repeated elements as lists). "
        "Entity expansion and external references are refused (defusedxml)."
    )
    categories = frozenset({BlockCategory.DATA})
    inline = True

    class Input(BlockSchema):
        xml: str = SchemaField(description="The XML document.")

    class Output(BlockOutput):
        data: dict[str, Any] = SchemaField(description="{root tag: content}.")

    test_input = [
        {"xml": '<feed lang="en"><item>a</item><item>b</item><title>T</title></feed>'},
        {"xml": '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'},
        {"xml": "<open>"},
    ]
    test_output = [
        ("data", {"feed": {"@lang": "en", "item": ["a", "b"], "title": "T"}}),
        ("error", lambda message: "refused" in message),
        ("error", lambda message: "malformed" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if problem := _too_long(input_data.xml):
            yield "error", problem
            return
        try:
            root = ElementTree.fromstring(input_data.xml)
        except ElementTree.ParseError as exc:
            yield "error", f"The XML is malformed: {exc}"
            return
        except Exception as exc:  # defusedxml's refusals (entities, DTDs) share no base class
            yield "error", f"The XML was refused: {type(exc).__name__}"
            return
        yield "data", {root.tag: _element_to_dict(root)}


class YamlToJsonBlock(Block):
    id = "1f23c490-f489-4502-8e0e-ad661fe3b107"
    name = "Parse YAML"
    description = "Parses YAML into a value (safe loading: no Python objects are built)."
    categories = frozenset({BlockCategory.DATA})
    inline = True

    class Input(BlockSchema):
        yaml: str = SchemaField(description="The YAML text.")

    class Output(BlockOutput):
        data: Any = SchemaField(description="The parsed value.")

    test_input = [
        {"yaml": "name: Ada\nlanguages:\n  - en\n  - fr\n"},
        {"yaml": "!!python/object/apply:os.system ['true']"},
    ]
    test_output = [
        ("data", {"name": "Ada", "languages": ["en", "fr"]}),
        ("error", lambda message: message.startswith("The YAML is not valid")),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if problem := _too_long(input_data.yaml):
            yield "error", problem
            return
        try:
            yield "data", yaml.safe_load(input_data.yaml)
        except yaml.YAMLError as exc:
            yield "error", f"The YAML is not valid: {str(exc).splitlines()[0]}"


class JsonToYamlBlock(Block):
    id = "7ff8ac4e-71b1-467b-be28-6a4dc3165d35"
    name = "Format YAML"
    description = "Writes a value as YAML text."
    categories = frozenset({BlockCategory.DATA, BlockCategory.TEXT})
    inline = True

    class Input(BlockSchema):
        data: Any = SchemaField(description="The value to write.")

    class Output(BlockOutput):
        yaml: str = SchemaField(description="The YAML text.")

    test_input = {"data": {"name": "Ada", "tags": ["a", "b"]}}
    test_output = [("yaml", "name: Ada\ntags:\n- a\n- b\n")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        yield "yaml", yaml.safe_dump(input_data.data, sort_keys=False, allow_unicode=True)


class JmesPathQueryBlock(Block):
    id = "80fa8913-f732-4f0d-ab99-50d319e0fd89"
    name = "Query JSON (JMESPath)"
    description = (
        "Selects from a value with a JMESPath expression, e.g. `people[?age > `30`].name`."
    )
    categories = frozenset({BlockCategory.DATA})
    inline = True

    class Input(BlockSchema):
        data: Any = SchemaField(description="The value to query.")
        query: str = SchemaField(
            description="The JMESPath expression.", placeholder="items[0].name"
        )

    class Output(BlockOutput):
        result: Any = SchemaField(description="What the expression selects (null when nothing).")

    test_input = [
        {"data": {"people": [{"name": "a", "age": 20}, {"name": "b", "age": 40}]},
         "query": "people[?age > `30`].name"},
        {"data": {}, "query": "people[?"},
    ]  # fmt: skip
    test_output = [
        ("result", ["b"]),
        ("error", lambda message: "JMESPath" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            yield "result", jmespath.search(input_data.query, input_data.data)
        except JMESPathError as exc:
            yield "error", f"The JMESPath expression is not valid: {str(exc).splitlines()[0]}"


class MarkdownToHtmlBlock(Block):
    id = "7564af3b-f342-450a-b452-c288cc9cff19"
    name = "Markdown to HTML"
    description = "Renders Markdown (with tables and fenced code) as sanitised HTML."
    categories = frozenset({BlockCategory.TEXT})
    inline = True

    class Input(BlockSchema):
        markdown: str = SchemaField(description="The Markdown text.")

    class Output(BlockOutput):
        html: str = SchemaField(description="The HTML, with scripts and handlers removed.")

    test_input = {"markdown": "# Title\n\n**bold** <script>alert(1)</script>"}
    test_output = [("html", "<h1>Title</h1>\n<p><strong>bold</strong> </p>")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if problem := _too_long(input_data.markdown):
            yield "error", problem
            return
        rendered = markdown.markdown(input_data.markdown, extensions=["tables", "fenced_code"])
        yield "html", nh3.clean(rendered)


def html_to_markdown(html: str, *, links: bool = True) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping
    converter.ignore_links = not links
    converter.ignore_images = True
    return converter.handle(html).strip()


class HtmlToMarkdownBlock(Block):
    id = "50070a00-b9a2-44ac-ae0b-1668fb092586"
    name = "HTML to Markdown"
    description = "Converts HTML to Markdown (html2text): headings, lists, links and emphasis."
    categories = frozenset({BlockCategory.TEXT})
    inline = True

    class Input(BlockSchema):
        html: str = SchemaField(description="The HTML.")
        keep_links: bool = SchemaField(True, description="Keep links as [text](url).")

    class Output(BlockOutput):
        markdown: str = SchemaField(description="The Markdown text.")

    test_input = {"html": "<h2>Hi</h2><p>A <a href='https://x.org'>link</a> and <b>bold</b></p>"}
    test_output = [("markdown", "## Hi\n\nA [link](https://x.org) and **bold**")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if problem := _too_long(input_data.html):
            yield "error", problem
            return
        yield "markdown", html_to_markdown(input_data.html, links=input_data.keep_links)


class HashTextBlock(Block):
    id = "7107267b-a791-454a-9dca-1161772a7ebe"
    name = "Hash Text"
    description = "The hex digest of the text's UTF-8 bytes (sha256, sha1, md5, sha512, blake2b)."
    categories = frozenset({BlockCategory.TEXT, BlockCategory.DEVELOPER_TOOLS})
    inline = True

    class Input(BlockSchema):
        text: str = SchemaField(description="The text to hash.")
        algorithm: Literal["sha256", "sha1", "md5", "sha512", "blake2b"] = SchemaField("sha256")

    class Output(BlockOutput):
        hash: str = SchemaField(description="The hex digest.")

    test_input = [{"text": "abc"}, {"text": "abc", "algorithm": "md5"}]
    test_output = [
        ("hash", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("hash", "900150983cd24fb0d6963f7d28e17f72"),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        digest = hashlib.new(input_data.algorithm, input_data.text.encode())
        yield "hash", digest.hexdigest()


class Base64EncodeBlock(Block):
    id = "5eb05362-e7c4-41b3-929b-07c48f0f32dc"
    name = "Base64 Encode"
    description = "Encodes the text's UTF-8 bytes as base64 (standard or URL-safe alphabet)."
    categories = frozenset({BlockCategory.TEXT, BlockCategory.DEVELOPER_TOOLS})
    inline = True

    class Input(BlockSchema):
        text: str = SchemaField(description="The text to encode.")
        url_safe: bool = SchemaField(False, description="Use - and _ instead of + and /.")

    class Output(BlockOutput):
        encoded: str = SchemaField(description="The base64 text.")

    test_input = [{"text": "hi?>"}, {"text": "hi?>", "url_safe": True}]
    test_output = [("encoded", "aGk/Pg=="), ("encoded", "aGk_Pg==")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        encode = base64.urlsafe_b64encode if input_data.url_safe else base64.b64encode
        yield "encoded", encode(input_data.text.encode()).decode("ascii")


class Base64DecodeBlock(Block):
    id = "11678975-4839-45cf-a1f4-612e05a517a2"
    name = "Base64 Decode"
    description = "Decodes base64 (either alphabet, padding optional) to UTF-8 text."
    categories = frozenset({BlockCategory.TEXT, BlockCategory.DEVELOPER_TOOLS})
    inline = True

    class Input(BlockSchema):
        encoded: str = SchemaField(description="The base64 text.")

    class Output(BlockOutput):
        text: str = SchemaField(description="The decoded text.")

    test_input = [{"encoded": "aGk_Pg"}, {"encoded": "@@@"}, {"encoded": "//79"}]
    test_output = [
        ("text", "hi?>"),
        ("error", lambda message: "not valid base64" in message),
        ("error", lambda message: "not UTF-8 text" in message),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        raw = input_data.encoded.strip().replace("-", "+").replace("_", "/")
        try:
            data = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        except binascii.Error:
            yield "error", "The input is not valid base64."
            return
        try:
            yield "text", data.decode("utf-8")
        except UnicodeDecodeError:
            yield "error", "The decoded bytes are not UTF-8 text."
