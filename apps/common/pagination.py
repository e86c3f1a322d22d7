"""The one list shape of the API: {"data", "total", "page", "page_size", "total_pages"}."""

import math
from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.exceptions import ValidationFailed

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


def _positive_int(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" and at most {maximum}" if maximum else ""
        raise ValidationFailed(
            f"{name} must be an integer of at least 1{limit}.", details={"fields": {name: raw}}
        )
    return value


class PagePagination(BasePagination):
    def paginate_queryset(self, queryset, request: Request, view=None) -> list[Any]:
        self.page = _positive_int(request, "page", 1)
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
            {"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}},
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "maximum": MAX_PAGE_SIZE},
            },
        ]
