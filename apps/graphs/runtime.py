"""Builds what a block runs with, from settings and the user: the Django side of the context."""

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection

from apps.common.exceptions import NotFound, ValidationFailed
from apps.common.safe_http import SafeHttpClient
from apps.graphs.blocks.base import Block, BlockInputError, BlockType
from apps.graphs.blocks.context import AgentRunner, BlockContext, Cancelled, CancelToken
from apps.graphs.blocks.registry import get_block
from apps.graphs.kv import DatabaseKeyValueStore
from apps.users.models import User

logger = logging.getLogger(__name__)


def safe_http_client() -> SafeHttpClient:
    return SafeHttpClient(
        allowed_hosts=settings.BLOCK_HTTP_ALLOWED_HOSTS,
        timeout=settings.BLOCK_HTTP_TIMEOUT_SECONDS,
        max_response_bytes=settings.BLOCK_HTTP_MAX_RESPONSE_BYTES,
    )


def block_context_build(
    *,
    user: User,
    graph_id: str | None = None,
    graph_version: int | None = None,
    graph_exec_id: str | None = None,
    node_id: str | None = None,
    node_exec_id: str | None = None,
    cancel: CancelToken | None = None,
    agents: AgentRunner | None = None,
) -> BlockContext:
    return BlockContext(
        user_id=str(user.pk),
        user_timezone=user.timezone,
        kv=DatabaseKeyValueStore(user_id=str(user.pk), graph_id=graph_id),
        http=safe_http_client(),
        graph_id=graph_id,
        graph_version=graph_version,
        graph_exec_id=graph_exec_id,
        node_id=node_id,
        node_exec_id=node_exec_id,
        cancel=cancel or CancelToken(),
        agents=agents,
    )


def block_execute(
    *,
    user: User,
    block_id: str,
    data: dict[str, Any],
    before_run: Callable[[Block], None] | None = None,
) -> dict[str, list[Any]]:
    """Run one block inline, outside any graph: {pin: [values in order]}.

    `before_run` is called once the input is valid and before the block starts (the caller
    charges for the run there; an exception from it stops the run).

    The block runs in a thread of its own so a time limit holds even for a block stuck in I/O;
    on expiry the run is cancelled (it stops at its next sleep tick) and an error is reported.
    """
    block = get_block(block_id)
    if block is None:
        raise NotFound("Block not found.")
    if block.block_type == BlockType.NOTE:
        raise ValidationFailed("Notes are not executed.")
    try:
        block.parse_input(data)
    except BlockInputError as exc:
        raise ValidationFailed(str(exc), details={"fields": exc.errors}) from None
    if before_run is not None:
        before_run(block)
    limit = min(block.timeout_seconds, settings.BLOCK_EXECUTE_TIMEOUT_SECONDS)
    context = block_context_build(user=user)
    outputs: dict[str, list[Any]] = defaultdict(list)

    def run() -> None:
        try:
            for pin, value in block.execute(data, context):
                outputs[pin].append(value)
        except Cancelled:
            pass
        except Exception as exc:
            logger.warning("block %s raised", block.name, exc_info=True)
            outputs["error"].append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()  # the thread's own database connection

    worker = threading.Thread(target=run, name=f"block-{block.id}", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        context.cancel.cancel()
        return {**outputs, "error": [*outputs.get("error", []), f"timed out after {limit:g} s"]}
    return dict(outputs)
