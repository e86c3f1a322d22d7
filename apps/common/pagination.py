"""The one list shape of the API: {"data", "total", "page", "page_size", "total_pages"}."""

import math
from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.exceptions import ValidationFailed
from apps.common.numbers import INT64_MAX, parse_int

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Any page past the last is an empty list; one beyond 64 bits is refused (400), not echoed back
# (the one bound on integers, apps.common.numbers).
MAX_PAGE = INT64_MAX


def _positive_int(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = parse_int(raw) or 0
    if value < 1 or value > maximum:
        raise ValidationFailed(
            f"{name} must be an integer from 1 to {maximum}.", details={"fields": {name: raw}}
        )
    return value


class PagePagination(BasePagination):
    def paginate_queryset(self, queryset, request: Request, view=None) -> list[Any]:
        self.page = _positive_int(request, "page", 1, MAX_PAGE)
        self.page_size = _positive_int(request, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        self.total = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
        start = (self.page - 1) * self.page_size
        if start >= self.total:  # past the end: nothing to ask the database (nor to overflow)
            return []
        return list(queryset[start : start + self.page_size])

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            {
                "data": data,
                "total": self.total,
                "page": self.page,
                "page_size": self.page_size,
                "total_pages": math.ceil(self.total / self.page_size) if self.total else 0,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["data", "total", "page", "page_size", "total_pages"],
            "properties": {
                "data": schema,
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
                "total_pages": {"type": "integer"},
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
