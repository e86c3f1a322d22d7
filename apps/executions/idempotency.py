"""`Idempotency-Key` on run starts (SPEC §17).

For IDEMPOTENCY_KEY_HOURS a key of a user answers its first request again: the same key and body
get the first run's response (and start nothing); the same key with another body is a 422; while
the first request is still starting its run, a 409.

Race-proof by the unique (user, key) constraint, not by a check then an insert: every request
first tries to INSERT the key's row in a transaction of its own (committed at once, so the others
see it in flight); exactly one succeeds and starts the run, and its response is stored in the same
transaction that creates the run, so a run never exists without its key answering it. A start that
fails (400, 402, 404) gives the key up, as nothing was started; a request that died between
taking the key and answering leaves a row in flight that is given up after
IDEMPOTENCY_IN_FLIGHT_SECONDS.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.common.exceptions import Conflict, IdempotencyKeyReused, ValidationFailed
from apps.executions.models import GraphExecution, IdempotencyKey
from apps.users.models import User

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Answer:
    """What the request answers: the response body and status, and whether it is a replay."""

    status: int
    body: Any
    replayed: bool


def key_check(raw: str | None) -> str | None:
    """The header's key, None without one; empty or over 255 characters: 400."""
    if raw is None:
        return None
    if not raw.strip():
        raise ValidationFailed(
            f"The {HEADER} header is empty.", details={"fields": {HEADER: "empty"}}
        )
    if len(raw) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            f"The {HEADER} header is longer than {MAX_KEY_LENGTH} characters.",
            details={"fields": {HEADER: f"{len(raw)} characters"}},
        )
    return raw


def request_hash(*, method: str, path: str, query: dict[str, Any], body: Any) -> str:
    """sha256 of what makes two requests the same: method, path, query and JSON body (key order
    does not matter)."""
    canonical = json.dumps(
        [method.upper(), path, sorted(query.items()), body],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(user: User, key: str, digest: str, now: datetime) -> IdempotencyKey | None:
    """Insert the key's row (committed at once); None when this request holds the key, else
    the row that holds it."""
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(user=user, key=key, request_hash=digest, created_at=now)
        return None
    except IntegrityError:
        return IdempotencyKey.objects.filter(user=user, key=key).first()


def _stale(row: IdempotencyKey, now: datetime) -> bool:
    expired = row.created_at < now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    abandoned = row.state == IdempotencyKey.State.IN_FLIGHT and row.created_at < now - timedelta(
        seconds=settings.IDEMPOTENCY_IN_FLIGHT_SECONDS
    )
    return expired or abandoned


def idempotent_start(
    *,
    user: User,
    key: str,
    digest: str,
    start: Callable[[], tuple[GraphExecution, Any]],
) -> Answer:
    """Start at most one run for (user, key). `start` starts the run and returns it with its
    response body (it must not be inside a transaction of the caller's, so the key's row
    commits before the run starts)."""
    for _ in range(3):  # a stale row is deleted (guarded) and the insert tried again
        now = timezone.now()
        held = _claim(user, key, digest, now)
        if held is None:
            break
        if _stale(held, now):
            IdempotencyKey.objects.filter(pk=held.pk, created_at=held.created_at).delete()
            continue
        if held.request_hash != digest:
            raise IdempotencyKeyReused(
                f"This {HEADER} was already used with another request in the last "
                f"{settings.IDEMPOTENCY_KEY_HOURS} hours.",
                details={"idempotency_key": key},
            )
        if held.state == IdempotencyKey.State.IN_FLIGHT:
            raise Conflict(
                f"A request with this {HEADER} is still starting its run; try again shortly.",
                details={"idempotency_key": key},
            )
        return Answer(status=held.response_status or 200, body=held.response_body, replayed=True)
    else:
        raise Conflict(f"This {HEADER} is contended; try again.", details={"idempotency_key": key})
    try:
        with transaction.atomic():
            execution, body = start()
            body = json.loads(json.dumps(body, default=str))  # as the JSON column stores it
            IdempotencyKey.objects.filter(user=user, key=key).update(
                state=IdempotencyKey.State.DONE,
                response_status=200,
                response_body=body,
                graph_execution=execution,
            )
    except BaseException:
        # Nothing was started: the key is free for a corrected (or the same) request.
        IdempotencyKey.objects.filter(
            user=user, key=key, state=IdempotencyKey.State.IN_FLIGHT
        ).delete()
        raise
    return Answer(status=200, body=body, replayed=False)


def idempotency_keys_cleanup(*, now: datetime | None = None) -> int:
    """Beat job: remove keys older than IDEMPOTENCY_KEY_HOURS; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
