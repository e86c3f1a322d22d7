"""AI blocks on OpenAI-compatible chat-completions APIs (SPEC §4): text generation, structured
(JSON-schema) responses, summaries of long texts, and conversations.

The key and base URL come from the context (the credentials selected for the node: the user's
own, or the platform's, which are charged per model). Token counts go to the node's stats;
timeouts and provider errors come out on the `error` pin.
"""

import json
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import jsonschema

from apps.graphs.blocks import llm
from apps.graphs.blocks.base import (
    PROVIDER_RETRY,
    Block,
    BlockCategory,
    BlockOutput,
    BlockSchema,
    RetryPolicy,
    SchemaField,
)
from apps.graphs.blocks.context import BlockContext

NO_CREDENTIALS = (
    "No credentials for the OpenAI-compatible provider: add yours under Credentials (or ask "
    "the operator to set OPENAI_API_KEY)."
)


def _model_field() -> Any:
    return SchemaField(
        llm.DEFAULT_MODEL,
        description="The model. Listed models have a price with the platform's credentials; "
        "with your own credentials any model your provider serves may be named.",
        options=llm.model_options(),
    )


def _timeout_field() -> Any:
    return SchemaField(
        120.0, gt=0, le=600, description="Seconds to wait for the provider.", advanced=True
    )


def _fill(prompt: str, values: dict[str, Any]) -> str:
    """`{name}` in the prompt becomes the value of `name` (the seed's LLM block does this)."""
    for name, value in values.items():
        prompt = prompt.replace("{" + name + "}", value if isinstance(value, str) else str(value))
    return prompt


class _LlmBlock(Block):
    """Shared by the AI blocks: credentials, the client and token accounting."""

    categories = frozenset({BlockCategory.AI})
    credentials_provider = llm.PROVIDER
    costs = llm.model_costs()
    # A provider's 429, 5xx, timeout or connection failure is tried again (SPEC §17).
    retry_policy: ClassVar[RetryPolicy | None] = PROVIDER_RETRY

    def _client(self, context: BlockContext, timeout: float) -> llm.Llm:
        credentials = context.credentials.get(llm.PROVIDER)
        if credentials is None:
            raise llm.LlmError(NO_CREDENTIALS)
        return llm.Llm(
            credentials, http=context.http, timeout=timeout, report=context.report_failure
        )

    def _ask(
        self, context: BlockContext, input_data: Any, messages: list[dict[str, Any]]
    ) -> llm.LlmReply:
        """One call with the node's model, temperature and token limit, counted."""
        reply = self._client(context, input_data.timeout).complete(
            messages,
            model=input_data.model,
            temperature=input_data.temperature,
            max_tokens=input_data.max_tokens,
        )
        self._count(context, reply)
        return reply

    @staticmethod
    def _count(context: BlockContext, reply: llm.LlmReply, *, retry: bool = False) -> None:
        context.add_stats(
            input_token_count=reply.prompt_tokens,
            output_token_count=reply.completion_tokens,
            llm_call_count=1,
            llm_retry_count=int(retry),
            model=reply.model,
        )

    @staticmethod
    def _messages(sys_prompt: str, prompt: str) -> list[dict[str, Any]]:
        messages = [{"role": "system", "content": sys_prompt}] if sys_prompt else []
        return [*messages, {"role": "user", "content": prompt}]


class AITextGeneratorBlock(_LlmBlock):
    id = "1f292d4a-41a4-4977-9684-7c8d560b9f91"
    name = "AI Text Generator"
    description = (
        "Sends a prompt to a language model and outputs its answer. `{name}` in the prompt is "
        "replaced by prompt_values[name]."
    )
    # The seed's example client names its LLM node's block so.
    aliases = ("llm_call_block",)

    class Input(BlockSchema):
        prompt: str = SchemaField(description="What to ask.", placeholder="Summarise: {text}")
        model: str = _model_field()
        sys_prompt: str = SchemaField("", description="A system prompt.", advanced=True)
        prompt_values: dict[str, Any] = SchemaField(
            {}, description="Values for `{name}` placeholders in the prompt."
        )
        temperature: float | None = SchemaField(None, ge=0, le=2, advanced=True)
        max_tokens: int | None = SchemaField(
            None, ge=1, description="The longest answer, in tokens.", advanced=True
        )
        timeout: float = _timeout_field()

    class Output(BlockOutput):
        response: str = SchemaField(description="The model's answer.")

    test_input = {"prompt": "Say {word}", "prompt_values": {"word": "hello"}}
    test_output = [("response", "Echo: Say hello")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        prompt = _fill(input_data.prompt, input_data.prompt_values)
        try:
            reply = self._ask(context, input_data, self._messages(input_data.sys_prompt, prompt))
        except llm.LlmError as exc:
            yield "error", str(exc)
            return
        yield "response", reply.text


class AIStructuredResponseBlock(_LlmBlock):
    id = "ed55ac19-356e-4243-a6cb-bc599e9b716f"
    name = "AI Structured Response Generator"
    description = (
        "Asks a language model for JSON matching a JSON Schema and outputs the parsed value; an "
        "answer that is not valid JSON or breaks the schema is sent back to the model to fix, "
        "up to `retry` more times."
    )

    class Input(BlockSchema):
        prompt: str = SchemaField(description="What to ask.")
        json_schema: dict[str, Any] = SchemaField(
            description="The JSON Schema the answer must satisfy.",
            placeholder='{"type": "object", "properties": {"name": {"type": "string"}}}',
        )
        model: str = _model_field()
        sys_prompt: str = SchemaField("", description="A system prompt.", advanced=True)
        prompt_values: dict[str, Any] = SchemaField({}, description="Values for `{name}`.")
        retry: int = SchemaField(3, ge=0, le=10, description="Attempts to fix a bad answer.")
        temperature: float | None = SchemaField(None, ge=0, le=2, advanced=True)
        max_tokens: int | None = SchemaField(None, ge=1, advanced=True)
        timeout: float = _timeout_field()

    class Output(BlockOutput):
        response: Any = SchemaField(description="The answer, parsed and valid.")

    test_input = {
        "prompt": 'REPLY: {"name": "Alice", "age": 30}',
        "json_schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name", "age"],
        },
    }
    test_output = [("response", {"name": "Alice", "age": 30})]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        schema = input_data.json_schema
        try:
            validator_class = jsonschema.validators.validator_for(schema)
            validator_class.check_schema(schema)
        except jsonschema.SchemaError as exc:
            yield "error", f"json_schema is not a valid JSON Schema: {exc.message}"
            return
        validator = validator_class(schema)
        instructions = (
            "Answer with JSON only, no prose, matching this JSON Schema:\n"
            f"{jsonschema_text(schema)}"
        )
        prompt = _fill(input_data.prompt, input_data.prompt_values)
        messages = self._messages(
            "\n\n".join(part for part in (input_data.sys_prompt, instructions) if part), prompt
        )
        try:
            client = self._client(context, input_data.timeout)
        except llm.LlmError as exc:
            yield "error", str(exc)
            return
        problem = ""
        for attempt in range(input_data.retry + 1):
            try:
                reply = client.complete(
                    messages,
                    model=input_data.model,
                    temperature=input_data.temperature,
                    max_tokens=input_data.max_tokens,
                    json_mode=True,
                )
            except llm.LlmError as exc:
                yield "error", str(exc)
                return
            self._count(context, reply, retry=attempt > 0)
            try:
                value = llm.parse_json_reply(reply.text)
            except ValueError as exc:
                problem = f"it is not valid JSON ({exc})"
            else:
                errors = sorted(validator.iter_errors(value), key=lambda error: list(error.path))
                if not errors:
                    yield "response", value
                    return
                where = "/".join(str(part) for part in errors[0].path) or "the top level"
                problem = f"it does not match the schema at {where}: {errors[0].message}"
            messages = [
                *messages,
                {"role": "assistant", "content": reply.text},
                {
                    "role": "user",
                    "content": f"That answer is invalid: {problem}. Answer again with only the "
                    "corrected JSON.",
                },
            ]
        yield (
            "error",
            (
                f"The model gave no valid answer in {input_data.retry + 1} attempts; the last one "
                f"was invalid: {problem}."
            ),
        )


def jsonschema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, sort_keys=True)


def _chunks(text: str, size: int, overlap: int) -> list[str]:
    """Pieces of at most `size` characters, cut at a paragraph, sentence or word end where one
    is near, each starting `overlap` characters before the previous one ended."""
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            window = text[start:end]
            for mark in ("\n\n", ". ", "\n", " "):
                cut = window.rfind(mark)
                if cut > size // 2:
                    end = start + cut + len(mark)
                    break
        pieces.append(text[start:end].strip())
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return [piece for piece in pieces if piece]


class AITextSummarizerBlock(_LlmBlock):
    id = "a0a69be1-4528-491c-a85a-a4ab6873e3f0"
    name = "AI Text Summarizer"
    description = (
        "Summarises a text of any length: a long one is cut into chunks, each chunk summarised, "
        "and the summaries combined into one."
    )

    class Input(BlockSchema):
        text: str = SchemaField(description="The text to summarise.")
        focus: str = SchemaField("the main points", description="What the summary is about.")
        style: Literal["concise", "detailed", "bullet points", "numbered list"] = SchemaField(
            "concise", description="How the summary reads."
        )
        model: str = _model_field()
        chunk_size: int = SchemaField(
            8000, ge=200, le=200_000, description="Characters per chunk.", advanced=True
        )
        chunk_overlap: int = SchemaField(
            200, ge=0, le=10_000, description="Characters chunks share.", advanced=True
        )
        max_tokens: int | None = SchemaField(None, ge=1, advanced=True)
        timeout: float = _timeout_field()

    class Output(BlockOutput):
        summary: str = SchemaField(description="The summary.")

    test_input = {"text": "Otters hold hands while they sleep so they do not drift apart."}
    test_output = [("summary", lambda summary: "Otters hold hands" in summary)]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        if input_data.chunk_overlap >= input_data.chunk_size:
            yield "error", "chunk_overlap must be smaller than chunk_size."
            return
        try:
            client = self._client(context, input_data.timeout)
            parts = [
                self._summarise(client, context, input_data, chunk)
                for chunk in _chunks(
                    input_data.text, input_data.chunk_size, input_data.chunk_overlap
                )
            ]
            if len(parts) > 1:
                summary = self._summarise(
                    client, context, input_data, "\n\n".join(parts), combining=True
                )
            else:
                summary = parts[0] if parts else ""
        except llm.LlmError as exc:
            yield "error", str(exc)
            return
        yield "summary", summary

    def _summarise(
        self,
        client: llm.Llm,
        context: BlockContext,
        input_data: Input,
        text: str,
        *,
        combining: bool = False,
    ) -> str:
        what = "these partial summaries of one text" if combining else "the following text"
        prompt = (
            f"Summarise {what} in a {input_data.style} style, focusing on "
            f"{input_data.focus}:\n\n{text}"
        )
        reply = client.complete(
            self._messages("", prompt), model=input_data.model, max_tokens=input_data.max_tokens
        )
        self._count(context, reply)
        return reply.text.strip()


class AIConversationBlock(_LlmBlock):
    id = "c3b0d6a8-8f0e-4c2b-9b7e-5a3f1d2e6c41"
    name = "AI Conversation"
    description = (
        "Continues a conversation: sends the messages so far (and a new prompt, if given) to a "
        "language model and outputs its reply and the conversation with the reply added."
    )

    class Input(BlockSchema):
        messages: list[dict[str, Any]] = SchemaField(
            description="The conversation so far: [{'role': 'user'|'assistant'|'system', "
            "'content': '…'}]."
        )
        prompt: str = SchemaField("", description="A new user message to add, if any.")
        model: str = _model_field()
        sys_prompt: str = SchemaField("", description="A system prompt.", advanced=True)
        temperature: float | None = SchemaField(None, ge=0, le=2, advanced=True)
        max_tokens: int | None = SchemaField(None, ge=1, advanced=True)
        timeout: float = _timeout_field()

    class Output(BlockOutput):
        response: str = SchemaField(description="The model's reply.")
        messages: list[dict[str, Any]] = SchemaField(description="The conversation, replied to.")

    test_input = {"messages": [{"role": "user", "content": "Hi"}], "prompt": "How are you?"}
    test_output = [
        ("response", "Echo: How are you?"),
        (
            "messages",
            lambda messages: [m["role"] for m in messages] == ["user", "user", "assistant"],
        ),
    ]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        conversation: list[dict[str, Any]] = []
        for position, message in enumerate(input_data.messages):
            role, content = message.get("role"), message.get("content")
            if role not in ("system", "user", "assistant") or not isinstance(content, str):
                yield (
                    "error",
                    (
                        f"messages[{position}] must have a role (system, user or assistant) and "
                        "text content."
                    ),
                )
                return
            conversation.append({"role": role, "content": content})
        if input_data.prompt:
            conversation.append({"role": "user", "content": input_data.prompt})
        if not conversation:
            yield "error", "There is no message to answer."
            return
        system = [{"role": "system", "content": input_data.sys_prompt}]
        try:
            reply = self._ask(
                context, input_data, (system if input_data.sys_prompt else []) + conversation
            )
        except llm.LlmError as exc:
            yield "error", str(exc)
            return
        yield "response", reply.text
        yield "messages", [*conversation, {"role": "assistant", "content": reply.text}]
