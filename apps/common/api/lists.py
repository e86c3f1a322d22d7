"""Paginated list responses for APIViews, with the matching OpenAPI component."""

from functools import cache
from typing import Any

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, PagePagination


def paginated_response(
    request: Request, queryset: Any, serializer_class: type[serializers.Serializer], **context: Any
) -> Response:
    paginator = PagePagination()
    page = paginator.paginate_queryset(queryset, request)
    data = serializer_class(page, many=True, context={"request": request, **context}).data
    # many=True builds a ListSerializer (its data a list); the stubs type the constructor's result.
    return paginator.get_paginated_response(data)  # type: ignore[arg-type]


@cache  # one component per serializer: spectacular refuses two with the same name
def paginated_schema(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    name = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "data": serializer_class(many=True),
            "total": serializers.IntegerField(),
            "page": serializers.IntegerField(),
            "page_size": serializers.IntegerField(),
            "total_pages": serializers.IntegerField(),
        },
    )


PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        description=f"1-based page number, at most {MAX_PAGE} (a larger one is a 400)",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        description=f"items per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})",
    ),
]
