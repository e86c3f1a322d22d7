"""JSON from outside: parsed and held to the request-wide limits before anything uses it."""

import json
from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from apps.common.exceptions import ValidationFailed
from apps.common.json_limits import check_json_limits


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259) and PostgreSQL's jsonb refuses them.
    raise ValueError(f"{name} is not a JSON number")


def load_json(text: str | bytes, *, what: str = "The body") -> Any:
    """JSON text from outside, parsed and held to the request-wide limits (JSON_MAX_DEPTH,
    JSON_MAX_ITEMS, storable text); every problem is a ValidationFailed naming `what`."""
    try:
        data = json.loads(text or "null", parse_constant=_refuse_constant)
    except RecursionError:  # deeper than the parser itself can go
        raise ValidationFailed(
            f"{what} is nested too deeply (more than {settings.JSON_MAX_DEPTH} levels).",
            details={"max_depth": settings.JSON_MAX_DEPTH},
        ) from None
    except ValueError as exc:
        raise ValidationFailed(f"{what} is not valid JSON: {exc}.") from None
    check_json_limits(
        data, max_depth=settings.JSON_MAX_DEPTH, max_items=settings.JSON_MAX_ITEMS, what=what
    )
    return data


class LimitedJSONParser(JSONParser):
    """The API's JSON bodies, through load_json."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        return load_json(stream.read() if stream is not None else b"")
