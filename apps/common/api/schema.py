"""The error answers of the OpenAPI schema (SPEC §7): every operation documents the envelope
for the statuses any request may get, so clients (and schemathesis) find each one described."""

from typing import Any

from apps.common.pagination import MAX_PAGE

ERROR_COMPONENT = "ErrorEnvelope"
_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "error": {
            "type": "object",
            "required": ["error_code", "message", "severity", "category", "details", "timestamp"],
            "properties": {
                "error_code": {"type": "string"},
                "message": {"type": "string"},
                "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
                "category": {
                    "type": "string",
                    "enum": ["validation", "auth", "resource", "network", "system", "business"],
                },
                "details": {"type": "object", "additionalProperties": True},
                "timestamp": {"type": "string", "format": "date-time"},
            },
        },
    },
}

# One server-sent event as clients (and schemathesis) read it: its name and its data line.
SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string", "description": "JSON text"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}

_ALWAYS = {
    "400": (
        "Invalid input: a field, a query parameter (a NUL character, %00, is refused anywhere "
        f"in a query; `page` is 1 to {MAX_PAGE}), or a JSON body (at most 64-bit integers, no "
        "NaN/Infinity, bounded depth and size)."
    ),
    "403": "The user, or the API key's permissions, may not do this.",
    "404": "No such object, or one the user may not see.",
    "429": "Rate limited; `Retry-After` says when to try again.",
    "503": "A service the platform depends on is unavailable for now; try again later.",
}
_AUTHENTICATED = {"401": "Missing or invalid credentials (session, JWT or API key)."}
_WRITES = {
    "402": "Not enough credits.",
    "409": "The request conflicts with the object's current state.",
    "413": "The request body is larger than the limit.",
}


def _streams(operation: dict[str, Any]) -> bool:
    return any(
        "text/event-stream" in (answer.get("content") or {})
        for answer in operation["responses"].values()
        if isinstance(answer, dict)
    )


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the error envelope on every operation, leaving
    alone what a view documents itself."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = _ERROR_SCHEMA
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers = dict(_ALWAYS)
            if operation.get("security") != [{}] and operation.get("security") != []:
                answers |= _AUTHENTICATED
            if method in ("post", "put", "patch", "delete"):
                answers |= _WRITES
            content: dict[str, Any] = {"application/json": {"schema": _REF}}
            if _streams(operation):  # its errors arrive as an `event: error` in the stream
                content["text/event-stream"] = {"schema": SSE_EVENT}
            for status, description in answers.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": content}
                )
    return result
