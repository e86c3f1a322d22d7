"""What a socket may subscribe to, registered by the apps above (executions registers runs and
graphs in its AppConfig.ready), so that realtime sits below them and imports none of them."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Topic:
    """`{"method": <method>, "data": {<key>: <id>}}` joins the group `resolve(user, id)` returns
    (raising apps.common.exceptions.NotFound for what the user may not see, as REST does); an
    API key needs `permission`; `unsubscribe` with `{<key>: <id>}` leaves `group(user, id)`.
    A topic with `replay` also takes `since_seq`: `replay(user, id, since_seq)` answers the
    stored messages after it, in order, each with its `seq` (SPEC §17), and the last `seq` there
    was (live messages up to it are not sent again)."""

    method: str
    key: str
    permission: str
    resolve: Callable[[Any, str], str]
    group: Callable[[Any, str], str]
    replay: Callable[[Any, str, int], tuple[list[dict[str, Any]], int]] | None = None


_TOPICS: dict[str, Topic] = {}


def topic_register(topic: Topic) -> None:
    _TOPICS[topic.method] = topic


def topic_get(method: Any) -> Topic | None:
    return _TOPICS.get(method) if isinstance(method, str) else None


def topic_list() -> list[Topic]:
    """In registration order (unsubscribe tries their keys in this order)."""
    return list(_TOPICS.values())
