"""What a running block may use (SPEC §4): ids, the user's time zone, credentials, an SSRF-safe
HTTP client, a key-value store and cancellation. No ORM: the Django side builds the context."""

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Cancelled(Exception):
    """The run was stopped; raised at the block's next sleep tick."""


class CancelToken:
    """Set by whoever stops the run; a sleeping block wakes at once."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def is_cancelled(self) -> bool:
        return self._event.is_set()

    def sleep(self, seconds: float) -> None:
        if self._event.wait(max(0.0, seconds)):
            raise Cancelled

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled


class PlatformFault(Exception):
    """A service the platform gives blocks (its file store, its database) failed: not the
    block's fault nor its provider's; what the node paid is refunded (SPEC §17)."""


class KeyValueStore(Protocol):
    """Per-user values: scope "agent" is private to one graph, "user" is shared by all."""

    def get(self, key: str, *, scope: str) -> Any: ...

    def set(self, key: str, value: Any, *, scope: str) -> None: ...


class HttpClient(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
    ) -> Any: ...

    def checked_destination(self, url: str) -> tuple[str, str, dict[str, Any]]:
        """(URL to connect to, Host header, transport extensions) after the address check."""
        ...


class FileNotAvailable(LookupError):
    """The file reference names no file of this user, or the file expired."""


@dataclass(frozen=True)
class FileInfo:
    id: str
    name: str
    content_type: str
    size: int


class FileStore(Protocol):
    """The user's uploaded files (`POST /api/files/upload`), by reference (`file:<id>` or id)."""

    def info(self, reference: str) -> FileInfo: ...

    def read(self, reference: str) -> bytes: ...


@dataclass(frozen=True)
class ProviderCredentials:
    """What a block needs to call a provider. `id` is the user's stored credential, or None for
    the platform's own (then the block's cost applies). A base URL the operator configured is
    `trusted`; a user's is reached only under the same public-address rule as HTTP blocks.

    `api_key` is the type's secret: the API key, the password (`user_password`, with
    `username`), the OAuth2 access token; `host_headers` credentials carry `headers`. `error`
    set: the credential chosen for the node cannot serve it (wrong provider or type, or it
    needs re-authorization); the block fails with that message without calling anything."""

    provider: str
    api_key: str = field(repr=False)
    base_url: str
    title: str = ""
    id: str | None = None
    trusted: bool = False
    credential_type: str = "api_key"
    username: str = ""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    error: str = ""

    @property
    def is_platform(self) -> bool:
        return self.id is None


class CredentialsExpired(Exception):
    """An OAuth2 credential could not be refreshed: the owner must connect it again (the
    platform has marked it `needs_reauth` and told them)."""


class CredentialRefresher(Protocol):
    def refresh(self, credentials: ProviderCredentials) -> ProviderCredentials:
        """New credentials after the provider refused these (one 401); raises
        CredentialsExpired when the refresh itself fails."""
        ...


class Notifier(Protocol):
    """Tells the run's owner something (in-app and their chosen channels)."""

    def notify(self, *, title: str, message: str, level: str = "info") -> str:
        """Sends it; returns the notification's id."""
        ...


class AgentRunner(Protocol):
    """Runs another graph as a sub-execution of this run (the Agent Executor block)."""

    def run(
        self, *, graph_id: str, graph_version: int | None, inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, list[Any]]]:
        """Start the child, wait for it; (its final status, its outputs by name)."""
        ...


class ToolRunner(Protocol):
    """An AI Agent's tools (SPEC §15), given by the engine: `tools` are specs (name,
    description, JSON-schema parameters, `as_openai()`); each call runs as a node execution of
    the tool's node, all calls of one batch side by side. Results keep the calls' order and
    carry `status`, `outputs` [(pin, value)], `error` and `node_exec_id`."""

    tools: Sequence[Any]

    def call_many(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]: ...


class ChargeRefused(Exception):
    """The balance cannot cover a further paid call of this node."""


class Meter(Protocol):
    """Charges a node that calls its provider more than once (the AI Agent's model turns):
    each further call pays the node's block cost again, once per `key`."""

    def charge_again(self, key: str) -> None:
        """Raises ChargeRefused when the balance cannot cover it."""
        ...


@dataclass(frozen=True)
class ReviewDecision:
    """How a person decided a review: `approved` (with the possibly edited data), `rejected`
    or `timed_out` (with the data as it was)."""

    outcome: str
    data: Any
    message: str = ""


class ReviewDesk(Protocol):
    """Human review (SPEC §15), inside a graph execution."""

    def request(
        self,
        *,
        data: Any,
        message: str,
        editable: bool,
        data_schema: Mapping[str, Any] | None,
        timeout_seconds: float,
    ) -> ReviewDecision | None:
        """The decision, once there is one. Before that, files the review (once) and returns
        None: the block then ends without output and its execution waits in `review`; it runs
        again, with the same input, when the review is decided."""
        ...


@dataclass(frozen=True)
class BlockContext:
    user_id: str
    kv: KeyValueStore
    http: HttpClient
    user_timezone: str = "UTC"
    graph_id: str | None = None
    graph_version: int | None = None
    graph_exec_id: str | None = None
    node_id: str | None = None
    node_exec_id: str | None = None
    # By provider name: the credentials selected for this node (SPEC §4, §12).
    credentials: Mapping[str, ProviderCredentials] = field(default_factory=dict)
    cancel: CancelToken = field(default_factory=CancelToken)
    agents: AgentRunner | None = None
    files: FileStore | None = None
    tools: ToolRunner | None = None  # an AI Agent's tools, inside a graph execution
    meter: Meter | None = None  # further charges of this node, inside a graph execution
    review: ReviewDesk | None = None  # human review, inside a graph execution
    # What the block reports about its run (token counts); the engine adds it to node stats.
    stats: dict[str, Any] = field(default_factory=dict)
    refresher: CredentialRefresher | None = None
    notifier: Notifier | None = None

    def report_failure(self, kind: str, *, retry_after: float | None = None) -> None:
        """Record why the last call failed (a `FailureKind` of base.py) in the node's stats,
        where the retry policy of SPEC §17 reads it with the block's `retry_policy`."""
        self.stats["failure_kind"] = kind
        if retry_after is not None:
            self.stats["retry_after_seconds"] = retry_after

    def add_stats(self, **values: Any) -> None:
        """Numbers add up over calls (tokens of several LLM calls); anything else is replaced."""
        for name, value in values.items():
            known = self.stats.get(name)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and isinstance(known, int | float) and not isinstance(known, bool):
                self.stats[name] = known + value
            else:
                self.stats[name] = value

    def sleep(self, seconds: float) -> None:
        """Sleep, waking with Cancelled as soon as the run is stopped."""
        self.cancel.sleep(seconds)
