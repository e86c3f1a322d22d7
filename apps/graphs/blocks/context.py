"""What a running block may use (SPEC §4): ids, the user's time zone, credentials, an SSRF-safe
HTTP client, a key-value store and cancellation. No ORM: the Django side builds the context."""

import threading
from collections.abc import Mapping
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


class AgentRunner(Protocol):
    """Runs another graph as a sub-execution of this run (the Agent Executor block)."""

    def run(
        self, *, graph_id: str, graph_version: int | None, inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, list[Any]]]:
        """Start the child, wait for it; (its final status, its outputs by name)."""
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
    credentials: Mapping[str, Any] = field(default_factory=dict)
    cancel: CancelToken = field(default_factory=CancelToken)
    agents: AgentRunner | None = None

    def sleep(self, seconds: float) -> None:
        """Sleep, waking with Cancelled as soon as the run is stopped."""
        self.cancel.sleep(seconds)
