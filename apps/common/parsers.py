import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from apps.common.exceptions import ValidationFailed
from apps.common.json_limits import check_json_limits


class LimitedJSONParser(JSONParser):
    """JSON with the request-wide depth and size limits applied before any view sees it."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            data = json.loads(raw or b"null")
        except RecursionError:
            raise ValidationFailed(
                f"JSON is nested too deeply (more than {settings.JSON_MAX_DEPTH} levels).",
                details={"max_depth": settings.JSON_MAX_DEPTH},
            ) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        check_json_limits(
            data, max_depth=settings.JSON_MAX_DEPTH, max_items=settings.JSON_MAX_ITEMS
        )
        return data
