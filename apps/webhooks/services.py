"""Writes for webhook triggers: registration, secrets, the switch, and the signed ingress.

Ingress contract (SPEC §12): the webhook is looked up by the id in the URL, but its
authenticity is checked only against the secret stored on it: `X-AutoGPT-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body>` with `X-AutoGPT-Timestamp: <unix
seconds>` within WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS. Signing the timestamp with the body means an
old call cannot be replayed with a fresh timestamp; within the window, a Redis key per signature
refuses the same call twice. Rejected calls (404, 413, 401, 409) write nothing.
"""

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.common.exceptions import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PayloadTooLarge,
    PlatformError,
    ValidationFailed,
)
from apps.common.numbers import parse_int
from apps.common.parsers import load_json
from apps.common.redis import get_redis
from apps.executions.engine.types import KIND_WEBHOOK
from apps.executions.models import GraphExecution
from apps.executions.services import graph_execution_start
from apps.graphs import selectors as graph_selectors
from apps.graphs.models import GraphVersion, Node
from apps.users.models import User
from apps.webhooks import crypto, selectors
from apps.webhooks.models import Webhook, WebhookCall

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-AutoGPT-Signature"
TIMESTAMP_HEADER = "X-AutoGPT-Timestamp"
SEEN_KEY = "autogpt:webhook-seen:{}:{}"
# Never passed on to the graph: credentials of the sender and the signature itself.
DROPPED_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", SIGNATURE_HEADER.lower()}
)


@dataclass(frozen=True)
class IncomingCall:
    body: bytes
    content_type: str
    headers: Mapping[str, str]
    query: Mapping[str, list[str]]


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The `X-AutoGPT-Signature` value a sender computes for a call."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _has_webhook_node(graph_id: uuid.UUID, version: int) -> bool:
    return Node.objects.filter(
        graph_version__graph_id=graph_id,
        graph_version__version=version,
        node_type=KIND_WEBHOOK,
    ).exists()


def webhook_sync_for_graph(*, graph_id: uuid.UUID | str, version: int | None = None) -> None:
    """Make the graph's trigger follow its active version: created (with a fresh secret) when
    that version has a Webhook Trigger node, pointed at it, or cleared (404) when it has none.

    Reads the active version itself rather than trusting `version`: two quick switches may
    announce themselves out of order. `enabled` is the owner's switch and is left alone.
    """
    active = (
        GraphVersion.objects.filter(graph_id=graph_id, is_active=True)
        .select_related("graph")
        .first()
    )
    if active is None:
        return
    if not _has_webhook_node(active.graph_id, active.version):
        Webhook.objects.filter(graph_id=active.graph_id, preset__isnull=True).update(
            graph_version=None
        )
        return
    Webhook.objects.update_or_create(
        graph_id=active.graph_id,
        preset=None,
        defaults={"graph_version": active.version},
        create_defaults={
            "user_id": active.graph.user_id,
            "graph_version": active.version,
            "secret_encrypted": crypto.secret_encrypt(crypto.secret_new()),
        },
    )


@transaction.atomic
def webhook_create_for_preset(*, user: User, preset_id: uuid.UUID | str) -> tuple[Webhook, str]:
    """Set a preset up as a trigger; the secret is returned here and never again."""
    preset = graph_selectors.preset_get(user=user, preset_id=preset_id)
    if not _has_webhook_node(preset.graph_id, preset.graph_version):
        raise ValidationFailed(
            "The preset's graph version has no Webhook Trigger node.",
            details={"fields": {"preset_id": str(preset.pk)}},
        )
    if Webhook.objects.filter(preset=preset).exists():
        raise Conflict("This preset is already a trigger.")
    secret = crypto.secret_new()
    webhook = Webhook.objects.create(
        user=user,
        graph_id=preset.graph_id,
        preset=preset,
        secret_encrypted=crypto.secret_encrypt(secret),
    )
    return webhook, secret


@transaction.atomic
def webhook_secret_rotate(*, user: User, webhook_id: uuid.UUID | str) -> tuple[Webhook, str]:
    """A new secret, returned once; calls signed with the old one are refused from now on."""
    webhook = selectors.webhook_get(user=user, webhook_id=webhook_id)
    secret = crypto.secret_new()
    webhook.secret_encrypted = crypto.secret_encrypt(secret)
    webhook.save(update_fields=["secret_encrypted"])
    return webhook, secret


def webhook_set_enabled(*, user: User, webhook_id: uuid.UUID | str, enabled: bool) -> Webhook:
    webhook = selectors.webhook_get(user=user, webhook_id=webhook_id)
    Webhook.objects.filter(pk=webhook.pk).update(enabled=enabled)
    webhook.enabled = enabled
    return webhook


# --- the ingress ------------------------------------------------------------------------------


def _callable_webhook(webhook_id: uuid.UUID | str) -> Webhook:
    """The same NotFound for unknown, disabled and detached webhooks: a caller learns nothing."""
    webhook = (
        Webhook.objects.select_related("user", "preset")
        .filter(pk=selectors.webhook_id_parse(webhook_id))
        .first()
    )
    if webhook is None or not webhook.accepts_calls or not webhook.user.is_active:
        raise NotFound("Webhook not found.")
    return webhook


def webhook_check_size(length: int) -> None:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    if length > limit:
        raise PayloadTooLarge(
            f"The request body is {length} bytes; a webhook call may carry {limit} bytes.",
            details={"max_bytes": limit},
        )


def _check_signature(webhook: Webhook, call: IncomingCall) -> str:
    timestamp = call.headers.get(TIMESTAMP_HEADER, "")
    signature = call.headers.get(SIGNATURE_HEADER, "")
    sent_at = parse_int(timestamp)
    if sent_at is None or not signature:
        raise AuthenticationFailed(
            f"Sign the call: {TIMESTAMP_HEADER} (unix seconds) and {SIGNATURE_HEADER} "
            "(sha256=HMAC-SHA256 of '<timestamp>.' + body, with the webhook's secret)."
        )
    tolerance = settings.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS
    if abs(time.time() - sent_at) > tolerance:
        raise AuthenticationFailed(
            f"{TIMESTAMP_HEADER} is more than {tolerance} seconds away from the server's clock."
        )
    secret = crypto.secret_decrypt(webhook.secret_encrypted)
    if secret is None:
        logger.error("webhook %s: no ENCRYPTION_KEY reads its secret; rotate it", webhook.pk)
        raise AuthenticationFailed("This webhook's secret must be rotated before it takes calls.")
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=call.body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise AuthenticationFailed("The signature does not match the call.")
    return expected


def _flatten(values: Mapping[str, list[str]]) -> dict[str, Any]:
    return {key: items[0] if len(items) == 1 else list(items) for key, items in values.items()}


def _parse_body(call: IncomingCall) -> Any:
    if not call.body:
        return None
    media_type = call.content_type.split(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return load_json(call.body)
    text = call.body.decode("utf-8", errors="replace")
    if media_type == "application/x-www-form-urlencoded":
        return _flatten(parse_qs(text, keep_blank_values=True))
    return text


def _request_input(call: IncomingCall) -> dict[str, Any]:
    return {
        "body": _parse_body(call),
        "headers": {
            name.lower(): value
            for name, value in call.headers.items()
            if name.lower() not in DROPPED_HEADERS
        },
        "query": _flatten(call.query),
    }


def _run_inputs(webhook: Webhook, request: dict[str, Any]) -> dict[str, Any]:
    version = webhook.preset.graph_version if webhook.preset else webhook.graph_version
    runnable = graph_selectors.compiled_version(webhook.graph_id, version)
    names = {node.input_default["name"] for node in runnable.nodes if node.kind == KIND_WEBHOOK}
    if not names:
        raise ValidationFailed("The trigger's graph version has no Webhook Trigger node.")
    return dict.fromkeys(names, request)


def _record(webhook: Webhook, *, status_code: int, execution=None, error: str = "") -> None:
    WebhookCall.objects.create(
        webhook=webhook, status_code=status_code, execution=execution, error=error[:500]
    )
    Webhook.objects.filter(pk=webhook.pk).update(last_called_at=timezone.now())


def webhook_ingress(*, webhook_id: uuid.UUID | str, call: IncomingCall) -> GraphExecution:
    """Verify a call and start its run through the one start-a-run service (credits, caps).

    Returns the queued execution at once. Unknown or disabled → NotFound; over the size limit
    → PayloadTooLarge; unsigned, stale or forged → AuthenticationFailed; seen before →
    Conflict; none of these writes anything. An authentic call whose run cannot start (402, an
    invalid graph) is logged with its error and may be retried with the same signature.
    """
    webhook = _callable_webhook(webhook_id)
    webhook_check_size(len(call.body))
    signature = _check_signature(webhook, call)
    seen = SEEN_KEY.format(webhook.pk, signature.removeprefix("sha256="))
    window = 2 * settings.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS + 1
    if not get_redis().set(seen, 1, nx=True, ex=window):
        raise Conflict("This call was received before (same timestamp and signature).")
    try:
        inputs = _run_inputs(webhook, _request_input(call))
        with transaction.atomic():
            execution = graph_execution_start(
                user=webhook.user,
                graph_id=webhook.graph_id,
                graph_version=None if webhook.preset_id else webhook.graph_version,
                inputs=inputs,
                preset_id=webhook.preset_id,
            )
            _record(webhook, status_code=202, execution=execution)
    except PlatformError as exc:
        get_redis().delete(seen)
        _record(webhook, status_code=exc.status_code, error=exc.message)
        raise
    return execution
