"""Events on the Channels layer (SPEC §8), sent after commit, in order; the one publisher of
executions, chat and notifications.

`publish` sends from the calling thread before it returns: one round trip to Redis (a script
that does one PUBLISH per group). So events of one run leave in the order they were committed,
and a run's final event has left before its worker reports the run finished. It goes straight
to Redis rather than through the layer's async API (an event loop and a thread hop per call):
the message is the layer's own serialisation on the channel the pub/sub layer subscribes a group
to (tests/executions/test_websocket.py holds the two together).
"""

import logging
from collections.abc import Sequence
from functools import cache
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from redis import Redis
from redis.commands.core import Script

from apps.common.redis import get_redis

logger = logging.getLogger(__name__)

# The channel-layer message type a socket forwards (PlatformConsumer.execution_events). The name
# is older than this app; it stays, so publishers and sockets of two releases understand each other.
FORWARD_TYPE = "execution.events"

Event = tuple[str, dict[str, Any]]  # (group, message)


def user_group(user_id: str) -> str:
    """A user's own channel, joined by each of their sockets on connect."""
    return f"user.{user_id}"


def message(method: str, data: Any, channel: str) -> dict[str, Any]:
    return {"method": method, "data": data, "success": True, "channel": channel, "error": None}


def _group_channel(group: str) -> str:
    """channels_redis.pubsub's name for a group's Redis channel (a single-host layer)."""
    layers: dict[str, dict[str, Any]] = settings.CHANNEL_LAYERS
    prefix: str = layers["default"].get("CONFIG", {}).get("prefix", "asgi")
    return f"{prefix}__group__{group}"


# One round trip for every group of a batch (a pipeline object costs more to build than this);
# with a key, the key is set (ARGV's last value: its seconds) once every message is out.
_PUBLISH_ALL = """
local last = #ARGV
if #KEYS > 0 then last = last - 1 end
for i = 1, last, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
if #KEYS > 0 then redis.call('SET', KEYS[1], '1', 'EX', ARGV[#ARGV]) end
"""


@cache
def _publish_all(client: Redis) -> Script:
    return client.register_script(_PUBLISH_ALL)


def publish(
    events: Sequence[Event], *, sent_key: str | None = None, sent_key_seconds: int = 0
) -> None:
    """Send (group, message) pairs, in the order given: one channel message per group, which
    the consumer forwards message by message. A Redis failure is logged, never raised: events
    are at most once, and every state is in the REST API. `sent_key`, set in the same round
    trip once all are out, tells whoever would send them again that they left."""
    if not events:
        return
    by_group: dict[str, list[dict[str, Any]]] = {}
    for group, payload in events:
        by_group.setdefault(group, []).append(payload)
    layer: Any = get_channel_layer()  # the pub/sub layer, whose serialisation is sent
    args: list[Any] = []
    for group, payloads in by_group.items():
        args += [
            _group_channel(group),
            layer.serialize({"type": FORWARD_TYPE, "messages": payloads}),
        ]
    keys = []
    if sent_key is not None:
        keys, args = [sent_key], [*args, sent_key_seconds]
    try:
        client = get_redis()
        _publish_all(client)(keys=keys, args=args, client=client)
    except Exception:
        logger.exception("could not publish %d events", len(events))
