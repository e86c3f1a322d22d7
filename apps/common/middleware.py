from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.common.envelope import error_response
from apps.common.exceptions import PayloadTooLarge, ValidationFailed
from apps.common.numbers import parse_int


class RequestLimitsMiddleware:
    """Refuses a body larger than MAX_REQUEST_BYTES before anything reads it (413), and a query
    string with a NUL character, which no database column can hold (400)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = parse_int(request.META.get("CONTENT_LENGTH")) or 0
        if length > settings.MAX_REQUEST_BYTES:
            return error_response(
                PayloadTooLarge(
                    f"The request body is {length} bytes; the limit is "
                    f"{settings.MAX_REQUEST_BYTES} bytes.",
                    details={"max_bytes": settings.MAX_REQUEST_BYTES},
                )
            )
        if "%00" in request.META.get("QUERY_STRING", ""):
            return error_response(
                ValidationFailed(
                    "The query string holds a NUL character (%00), which no field takes."
                )
            )
        return self.get_response(request)
