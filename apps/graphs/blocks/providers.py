"""Calls from provider blocks (GitHub, Slack, Notion, Google…) to their JSON APIs (SPEC §16).

One path for every provider: the node's credentials (their base URL, else the provider's),
the SSRF-safe client of the context, one refresh and retry when an OAuth2 token is refused
(401), and failures turned into one sentence that names the provider and the cause, with the
kind of failure recorded for the retry policy (SPEC §17). Plain Python: no Django.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from apps.common.safe_http import HttpRequestError, SafeResponse, UnsafeUrlError
from apps.graphs.blocks.base import PROVIDER_RETRY, Block, FailureKind
from apps.graphs.blocks.context import BlockContext, CredentialsExpired, ProviderCredentials

STATUS_CAUSES = {
    400: "the request was refused as invalid",
    401: "the credentials were refused",
    403: "the credentials lack permission",
    404: "not found",
    409: "a conflict",
    422: "the request was refused as invalid",
    429: "rate limited",
}


class ProviderError(Exception):
    def __init__(self, message: str, kind: FailureKind, retry_after: float | None = None):
        super().__init__(message)
        self.kind, self.retry_after = kind, retry_after


def bearer(credentials: ProviderCredentials) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials.api_key}"}


@dataclass(frozen=True)
class ProviderApi:
    name: str  # the provider registry's name (apps.integrations.providers)
    title: str  # how messages name it
    default_base_url: str
    auth: Callable[[ProviderCredentials], dict[str, str]] = bearer
    # The registry's default base URL, when this API lives on another host by default.
    registry_base_url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    # A provider that reports failures inside a 200 answer (Slack's {"ok": false}): the
    # failure's (message, kind), or None.
    body_error: Callable[[Any], tuple[str, FailureKind] | None] | None = None


def _message(body: Any) -> str:
    """The provider's own explanation in an error body, shortened."""
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "description"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value:
                return value[:300]
    return ""


def _retry_after(response: SafeResponse) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def transport_failure(api: ProviderApi, exc: Exception) -> ProviderError:
    text = str(exc)
    if isinstance(exc, UnsafeUrlError):
        return ProviderError(f"{api.title}: {text}", FailureKind.CLIENT_ERROR)
    if "timed out" in text or "no answer in time" in text:
        return ProviderError(f"{api.title} did not answer in time ({text}).", FailureKind.TIMEOUT)
    if "larger than" in text:
        return ProviderError(
            f"{api.title} sent a response over the size limit ({text}).",
            FailureKind.INVALID_RESPONSE,
        )
    return ProviderError(f"{api.title} could not be reached ({text}).", FailureKind.CONNECTION)


def provider_credentials(context: BlockContext, api: ProviderApi) -> ProviderCredentials:
    credentials = context.credentials.get(api.name)
    if credentials is None:
        raise ProviderError(
            f"No {api.title} credentials: add yours on the Credentials page and pick them for "
            "this node.",
            FailureKind.AUTH,
        )
    if credentials.error:
        raise ProviderError(credentials.error, FailureKind.AUTH)
    return credentials


def provider_request(
    context: BlockContext,
    api: ProviderApi,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    content: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    parse_json: bool = True,
    anonymous: bool = False,
) -> Any:
    """The parsed JSON answer (or the text, without `parse_json`) of one call; ProviderError
    on any failure. `path` is joined to the base URL unless it is a full URL. `anonymous`: a
    public site, called without credentials."""
    credentials = (
        ProviderCredentials(provider="", api_key="", base_url="")
        if anonymous
        else provider_credentials(context, api)
    )
    base = credentials.base_url or api.default_base_url
    if api.registry_base_url and base == api.registry_base_url:
        base = api.default_base_url  # one provider, several API hosts (Google)
    base = base.rstrip("/")
    url = path if path.startswith(("http://", "https://")) else f"{base}/{path.lstrip('/')}"
    if params:
        query = {key: value for key, value in params.items() if value not in (None, "")}
        url += ("&" if "?" in url else "?") + urlencode(query, doseq=True)
    response: SafeResponse | None = None
    for attempt in range(2):
        # host_headers credentials carry their own headers (and no token of the usual kind).
        plain = anonymous or credentials.credential_type == "host_headers"
        auth = {} if plain else api.auth(credentials)
        sent = {**api.headers, **credentials.headers, **auth, **(headers or {})}
        try:
            response = context.http.request(method, url, headers=sent, json=json, content=content)
        except (UnsafeUrlError, HttpRequestError) as exc:
            failure = transport_failure(api, exc)
            if credentials.api_key and len(credentials.api_key) >= 6:
                # A token in the URL (Telegram's /bot<token>/) must not reach a node's error.
                failure.args = (str(failure).replace(credentials.api_key, "***"),)
            raise failure from None
        refreshable = credentials.credential_type == "oauth2" and context.refresher is not None
        if response.status_code != 401 or attempt or not refreshable:
            break
        try:
            credentials = context.refresher.refresh(credentials)  # type: ignore[union-attr]
        except CredentialsExpired as exc:
            raise ProviderError(str(exc), FailureKind.AUTH) from None
    assert response is not None
    return _answer(api, response, parse_json)


def _answer(api: ProviderApi, response: SafeResponse, parse_json: bool) -> Any:
    status = response.status_code
    body: Any = None
    if parse_json and response.content:
        try:
            body = response.json()
        except ValueError:
            if 200 <= status < 300:
                raise ProviderError(
                    f"{api.title} answered with malformed JSON.", FailureKind.INVALID_RESPONSE
                ) from None
    if not 200 <= status < 300:
        cause = STATUS_CAUSES.get(status) or (
            "a server error" if status >= 500 else "an unexpected status"
        )
        detail = _message(body).rstrip(".")
        message = f"{api.title} answered {status} ({cause}){': ' + detail if detail else ''}."
        if status == 429:
            raise ProviderError(message, FailureKind.RATE_LIMITED, _retry_after(response))
        if status >= 500:
            raise ProviderError(message, FailureKind.SERVER_ERROR, _retry_after(response))
        kind = FailureKind.AUTH if status in (401, 403) else FailureKind.CLIENT_ERROR
        raise ProviderError(message, kind)
    if not parse_json:
        return response.text
    if api.body_error is not None:
        failure = api.body_error(body)
        if failure is not None:
            raise ProviderError(f"{api.title}: {failure[0]}.", failure[1])
    return body


def public_site(url: str) -> ProviderApi:
    """How errors name a public site a web block reads."""
    host = urlsplit(url).hostname or url[:100]
    return ProviderApi(name="", title=f"The site {host}", default_base_url="")


def fetch_public(context: BlockContext, url: str, **kwargs: Any) -> SafeResponse:
    """GET a public URL for a web block: the raw response (2xx only), ProviderError else."""
    api = public_site(url)
    try:
        response = context.http.request("GET", url, headers=kwargs.get("headers"))
    except (UnsafeUrlError, HttpRequestError) as exc:
        raise transport_failure(api, exc) from None
    if not 200 <= response.status_code < 300:
        _answer(api, response, parse_json=False)
    return response


class ProviderBlock(Block):
    """A block that calls one provider: its failures come out on `error` with their kind
    recorded (context.report_failure), and 429/5xx/timeouts/connection errors are retriable."""

    api: ClassVar[ProviderApi]
    retry_policy = PROVIDER_RETRY

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "api" in cls.__dict__ and "credentials_provider" not in cls.__dict__:
            cls.credentials_provider = cls.api.name

    def run(self, input_data: Any, context: BlockContext) -> Iterator[tuple[str, Any]]:
        try:
            yield from self.call(input_data, context)
        except ProviderError as exc:
            context.report_failure(exc.kind, retry_after=exc.retry_after)
            yield "error", str(exc)

    def call(self, input_data: Any, context: BlockContext) -> Iterator[tuple[str, Any]]:
        raise NotImplementedError

    def request(self, context: BlockContext, method: str, path: str, **kwargs: Any) -> Any:
        return provider_request(context, self.api, method, path, **kwargs)
