"""Signal receivers: graphs tell webhooks when a version becomes active."""

import uuid
from typing import Any

from apps.webhooks import services


def on_graph_version_activated(
    *, graph_id: uuid.UUID, version: int, user_id: Any, **kwargs: Any
) -> None:
    services.webhook_sync_for_graph(graph_id=graph_id, version=version)
