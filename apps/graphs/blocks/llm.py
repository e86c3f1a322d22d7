"""Calls to OpenAI-compatible chat-completions APIs, for the AI blocks and chat (SPEC §4).

The official `openai` client does the protocol; this module adds what the platform needs around
it: the model list with per-model prices, a transport that holds a user's base URL to the same
public-address rule as the HTTP blocks, and errors turned into one clear sentence without the
key in it. Plain Python: no Django.
"""

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2

from apps.common.lazy_modules import lazy_module
from apps.common.safe_http import HttpRequestError, UnsafeUrlError
from apps.graphs.blocks.base import BlockCost, FailureKind
from apps.graphs.blocks.context import HttpClient, ProviderCredentials

if TYPE_CHECKING:
    import openai
else:  # imported at its first use: see apps.common.lazy_modules
    openai = lazy_module("openai")

PROVIDER = "openai"


@dataclass(frozen=True)
class LlmModel:
    id: str
    title: str
    cost: int  # credits per call with the platform's credentials
    context_window: int


MODELS = (
    LlmModel("gpt-4o-mini", "GPT-4o mini", 1, 128_000),
    LlmModel("gpt-4.1-mini", "GPT-4.1 mini", 2, 1_000_000),
    LlmModel("gpt-4o", "GPT-4o", 3, 128_000),
    LlmModel("gpt-4.1", "GPT-4.1", 5, 1_000_000),
    LlmModel("o4-mini", "o4-mini", 5, 200_000),
    LlmModel("gpt-4", "GPT-4", 14, 8_192),
)
MODELS_BY_ID = {model.id: model for model in MODELS}
DEFAULT_MODEL = MODELS[0].id


def model_costs() -> tuple[BlockCost, ...]:
    """One rule per model, then the default model's price for a node that names none. A model
    off the list matches no rule: only the user's own credentials may use it."""
    rules = tuple(BlockCost(amount=model.cost, filter={"model": model.id}) for model in MODELS)
    return (*rules, BlockCost(amount=MODELS_BY_ID[DEFAULT_MODEL].cost, filter={"model": None}))


def model_options() -> list[dict[str, Any]]:
    """For the `model` pin's schema: what the UI offers."""
    return [{"value": model.id, "label": model.title, "cost": model.cost} for model in MODELS]


class LlmError(Exception):
    """The call failed; the message says why in one sentence, without secrets. `kind`: why, as
    the retry policy reads it (SPEC §17); `retry_after`: the provider's Retry-After."""

    def __init__(
        self, message: str, *, kind: FailureKind | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.kind, self.retry_after = kind, retry_after


def failure_kind(exc: "openai.OpenAIError") -> FailureKind:
    if isinstance(exc, openai.APITimeoutError):
        return FailureKind.TIMEOUT
    if isinstance(exc, openai.RateLimitError):
        return FailureKind.RATE_LIMITED
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return FailureKind.SERVER_ERROR
        return FailureKind.AUTH if exc.status_code in (401, 403) else FailureKind.CLIENT_ERROR
    return FailureKind.CONNECTION


def _retry_after(exc: "openai.OpenAIError") -> float | None:
    if not isinstance(exc, openai.APIStatusError):
        return None
    try:
        return max(0.0, float(exc.response.headers.get("retry-after", "")))
    except ValueError:
        return None


# What a client tells of each failed call: (FailureKind, Retry-After); a block's context's
# report_failure, so that the retry policy sees it.
FailureReport = Callable[..., None]


@dataclass(frozen=True)
class LlmReply:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text as the model wrote it


@dataclass(frozen=True)
class LlmToolReply(LlmReply):
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass
class StreamUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _CheckedTransport(httpx2.HTTPTransport):
    """Each request (and each redirect hop) goes to an address the platform's SSRF rule
    allowed, pinned so that a second DNS answer cannot redirect it."""

    def __init__(self, http: HttpClient) -> None:
        super().__init__()
        self.http = http

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            url, host, extensions = self.http.checked_destination(str(request.url))
        except (UnsafeUrlError, HttpRequestError) as exc:
            # As a connection error, the client reports it like any unreachable provider.
            raise httpx2.ConnectError(str(exc), request=request) from None
        request.url = httpx2.URL(url)
        request.headers["Host"] = host
        request.extensions = {**request.extensions, **extensions}
        return super().handle_request(request)


class Llm:
    def __init__(
        self,
        credentials: ProviderCredentials,
        *,
        http: HttpClient,
        timeout: float,
        report: FailureReport | None = None,
    ) -> None:
        self.credentials = credentials
        self.timeout = timeout
        self.report = report
        http_client = None
        if not credentials.trusted:
            http_client = httpx2.Client(
                transport=_CheckedTransport(http), timeout=timeout, trust_env=False
            )
        self.client = openai.OpenAI(
            api_key=credentials.api_key,
            base_url=credentials.base_url,
            timeout=timeout,
            max_retries=0,
            http_client=http_client,
        )

    def check_model(self, model: str) -> None:
        if self.credentials.is_platform and model not in MODELS_BY_ID:
            raise LlmError(
                f"The model {model!r} is not offered with the platform's credentials "
                f"(offered: {', '.join(MODELS_BY_ID)}); add your own credentials to use it."
            )

    def _arguments(
        self,
        messages: Sequence[dict[str, Any]],
        model: str,
        temperature: float | None,
        max_tokens: int | None,
    ) -> dict[str, Any]:
        self.check_model(model)
        arguments: dict[str, Any] = {"model": model, "messages": list(messages)}
        if temperature is not None:
            arguments["temperature"] = temperature
        if max_tokens is not None:
            arguments["max_tokens"] = max_tokens
        return arguments

    def complete(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        model: str,
        temperature: float | None = None,
        max_tokens: int | None = None,
        json_mode: bool = False,
    ) -> LlmReply:
        arguments = self._arguments(messages, model, temperature, max_tokens)
        if json_mode:
            arguments["response_format"] = {"type": "json_object"}
        reply = self._create(arguments)
        return LlmReply(reply.text, reply.model, reply.prompt_tokens, reply.completion_tokens)

    def complete_with_tools(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        model: str,
        tools: Sequence[dict[str, Any]],
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> "LlmToolReply":
        """One turn of a tool-calling conversation: the text and the function calls asked for
        (their arguments as the model wrote them: JSON text, not checked here)."""
        arguments = self._arguments(messages, model, temperature, max_tokens)
        if tools:
            arguments["tools"] = list(tools)
        return self._create(arguments)

    def _create(self, arguments: dict[str, Any]) -> "LlmToolReply":
        try:
            response = self.client.chat.completions.create(**arguments)
        except openai.OpenAIError as exc:
            raise self.failed(exc) from None
        except UnicodeEncodeError:  # a key stored before keys had to be ASCII
            raise LlmError(_UNSENDABLE_KEY) from None
        if not response.choices:
            raise LlmError(f"The provider at {self.credentials.base_url} returned no choices.")
        usage = response.usage
        message = response.choices[0].message
        calls = tuple(
            ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments or "")
            for call in message.tool_calls or ()
            if getattr(call, "function", None) is not None
        )
        return LlmToolReply(
            text=message.content or "",
            model=response.model or arguments["model"],
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            tool_calls=calls,
        )

    def stream(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        model: str,
        usage: StreamUsage,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Iterator[str]:
        """The reply's text as it arrives; `usage` is filled in when the provider reports it."""
        arguments = self._arguments(messages, model, temperature, max_tokens)
        try:
            stream = self.client.chat.completions.create(
                **arguments, stream=True, stream_options={"include_usage": True}
            )
            with stream:
                for chunk in stream:
                    if chunk.usage is not None:
                        usage.prompt_tokens = chunk.usage.prompt_tokens
                        usage.completion_tokens = chunk.usage.completion_tokens
                    for choice in chunk.choices:
                        if choice.delta and choice.delta.content:
                            yield choice.delta.content
        except openai.OpenAIError as exc:
            raise self.failed(exc) from None
        except UnicodeEncodeError:  # a key stored before keys had to be ASCII
            raise LlmError(_UNSENDABLE_KEY) from None

    def failed(self, exc: "openai.OpenAIError") -> LlmError:
        """The LlmError for a failed call, its kind reported (`report`) for the retry policy."""
        kind, retry_after = failure_kind(exc), _retry_after(exc)
        if self.report is not None:
            self.report(kind, retry_after=retry_after)
        return LlmError(self._explain(exc), kind=kind, retry_after=retry_after)

    def _explain(self, exc: "openai.OpenAIError") -> str:
        where = self.credentials.base_url
        if isinstance(exc, openai.APITimeoutError):
            message = f"The provider at {where} did not answer within {self.timeout:g} s."
        elif isinstance(exc, openai.APIStatusError):
            message = f"The provider at {where} answered {exc.status_code}: {_detail(exc)}"
        elif isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            message = f"Could not reach the provider at {where}: {cause or exc}"
        else:
            message = f"The call to the provider at {where} failed: {exc}"
        key = self.credentials.api_key
        # A provider may quote the key back; a very short "key" is no secret to hide.
        return message.replace(key, "***") if len(key) >= 8 else message


_UNSENDABLE_KEY = "The API key holds characters an HTTP header cannot carry; store it again."


def _detail(exc: "openai.APIStatusError") -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return exc.message


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def parse_json_reply(text: str) -> Any:
    """The JSON value in a reply, tolerating a Markdown code fence or text around one object;
    raises ValueError."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        return json.loads(stripped)
    except ValueError:
        start, end = stripped.find("{"), stripped.rfind("}")
        if 0 <= start < end:
            return json.loads(stripped[start : end + 1])
        raise
