"""Webhook graphs and signed calls for the tests."""

import json
import time
from typing import Any

from apps.graphs.blocks.library.webhook import WebhookTriggerBlock
from apps.webhooks.services import SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_signature
from tests.graphs.graphs import OUTPUT, link, node

WEBHOOK = WebhookTriggerBlock.id


def webhook_graph(name: str = "On push") -> dict[str, Any]:
    """webhook → output(payload)"""
    return {
        "name": name,
        "nodes": [
            node("hook", WEBHOOK, headers=["X-Event"]),
            node("out", OUTPUT, name="payload"),
        ],
        "links": [link("hook", "payload", "out", "value")],
    }


def signed_headers(
    secret: str, body: bytes, *, timestamp: int | None = None, **extra: str
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: webhook_signature(secret=secret, timestamp=stamp, body=body),
        **extra,
    }


def json_body(value: Any) -> bytes:
    return json.dumps(value).encode()
