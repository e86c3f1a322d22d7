"""Execution events on the Channels layer (SPEC §8), sent after commit, in order.

One publisher thread per process owns an event loop and a queue: callers hand it batches and go
on; a single consumer task sends them one by one, so events of one execution leave in the order
they were committed. `flush()` waits until everything handed over has been sent (a worker calls
it before it reports a run finished, so the final event is never left behind).
"""

import asyncio
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

GRAPH_EXECUTION_EVENT = "graph_execution_event"
NODE_EXECUTION_EVENT = "node_execution_event"


def execution_group(graph_exec_id: str) -> str:
    return f"exec.{graph_exec_id}"


def graph_group(graph_id: str, user_id: str) -> str:
    """Every run of a graph by one user (runs of a shared graph by others are not theirs)."""
    return f"graph.{graph_id}.{user_id}"


def user_group(user_id: str) -> str:
    return f"user.{user_id}"


def message(method: str, data: Any, channel: str) -> dict[str, Any]:
    return {"method": method, "data": data, "success": True, "channel": channel, "error": None}


class _Publisher:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._queue: asyncio.Queue[list[tuple[str, dict[str, Any]]] | None] | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="event-publisher", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._queue = asyncio.Queue()
        self._ready.set()
        self._loop.run_until_complete(self._consume())

    async def _consume(self) -> None:
        layer = get_channel_layer()
        assert self._queue is not None
        while True:
            batch = await self._queue.get()
            try:
                # One channel message per group and batch: far fewer Redis round trips than
                # one per event, and the consumer sends them on in the same order.
                by_group: dict[str, list[dict[str, Any]]] = {}
                for group, payload in batch or ():
                    by_group.setdefault(group, []).append(payload)
                for group, payloads in by_group.items():
                    await layer.group_send(
                        group, {"type": "execution.events", "messages": payloads}
                    )
            except Exception:
                logger.exception("could not publish %d execution events", len(batch or ()))
            finally:
                self._queue.task_done()

    def publish(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        assert self._queue is not None
        self._loop.call_soon_threadsafe(self._queue.put_nowait, batch)

    def flush(self, timeout: float = 10.0) -> None:
        assert self._queue is not None
        future = asyncio.run_coroutine_threadsafe(self._queue.join(), self._loop)
        try:
            future.result(timeout)
        except TimeoutError:
            logger.warning("execution events not flushed within %s s", timeout)


_publisher: _Publisher | None = None
_publisher_pid: int | None = None
_lock = threading.Lock()


def _get_publisher() -> _Publisher:
    global _publisher, _publisher_pid
    # A forked worker child must not reuse its parent's thread (it does not exist there).
    with _lock:
        if _publisher is None or _publisher_pid != os.getpid():
            _publisher, _publisher_pid = _Publisher(), os.getpid()
        return _publisher


def publish(events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Hand events to the publisher thread; they go out in the order given."""
    if events:
        _get_publisher().publish(list(events))


def flush() -> None:
    if _publisher is not None:
        _get_publisher().flush()
