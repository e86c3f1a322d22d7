"""The `Idempotency-Key` header of the run-start endpoints (SPEC §17); the rules live in
apps.executions.idempotency."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from apps.executions import idempotency
from apps.executions.models import GraphExecution
from apps.users.requests import AuthenticatedRequest

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    idempotency.HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "At most one run per key for 24 hours: the same key and body answer the first run "
        "again (header `Idempotent-Replayed: true`); another body is a 422; while the first "
        "request is still starting its run, a 409. 1 to 255 characters."
    ),
)


def idempotency_key(request: Request) -> str | None:
    """The request's key (checked: 400 when empty or too long), None without one."""
    return idempotency.key_check(request.headers.get(idempotency.HEADER))


def started_response(
    request: AuthenticatedRequest,
    key: str | None,
    start: Callable[[], GraphExecution],
    render: Callable[[GraphExecution], Any],
) -> Response:
    """Start a run (once per key when the request has one) and answer its meta."""
    if key is None:
        return Response(render(start()))

    def start_and_render() -> tuple[GraphExecution, Any]:
        execution = start()
        return execution, render(execution)

    answer = idempotency.idempotent_start(
        user=request.user,
        key=key,
        digest=idempotency.request_hash(
            method=request.method or "POST",
            path=request.path,
            query={name: request.query_params.getlist(name) for name in request.query_params},
            body=request.data,
        ),
        start=start_and_render,
    )
    response = Response(answer.body, status=answer.status)
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return response
