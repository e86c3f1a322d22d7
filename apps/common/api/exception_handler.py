"""Maps every exception raised under the REST API to the SPEC §7 error envelope."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.common import exceptions as errors
from apps.common.envelope import error_body

logger = logging.getLogger(__name__)


class _HttpStatusError(errors.PlatformError):
    """A DRF error with no domain meaning (405, 406, 415): keeps DRF's status and text."""

    severity = errors.ErrorSeverity.LOW
    category = errors.ErrorCategory.VALIDATION

    def __init__(self, exc: drf.APIException, error_code: str):
        self.status_code = exc.status_code
        self.error_code = error_code
        super().__init__(str(exc.detail))


def _first_message(detail: Any, prefix: str = "") -> str:
    """The first leaf message of a DRF error tree, with its field path (`nodes.0.id: …`)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            label = key if key != "non_field_errors" else ""
            return _first_message(value, f"{prefix}.{label}" if prefix and label else label)
    if isinstance(detail, list) and detail:
        for index, value in enumerate(detail):
            if value:
                nested = isinstance(value, (dict, list))
                return _first_message(value, f"{prefix}.{index}" if nested and prefix else prefix)
    text = str(detail)
    return f"{prefix}: {text}" if prefix else text


def _to_platform_error(exc: Exception) -> errors.PlatformError | None:
    if isinstance(exc, errors.PlatformError):
        return exc
    if isinstance(exc, drf.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return errors.ValidationFailed(_first_message(detail), details={"fields": detail})
    if isinstance(exc, drf.ParseError):
        return errors.ValidationFailed(f"Malformed request body: {exc.detail}")
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return errors.AuthenticationFailed(_first_message(exc.detail))
    if isinstance(exc, drf.PermissionDenied):
        return errors.PermissionDenied(str(exc.detail))
    if isinstance(exc, DjangoPermissionDenied):
        return errors.PermissionDenied()
    if isinstance(exc, (drf.NotFound, Http404)):
        return errors.NotFound()
    if isinstance(exc, drf.Throttled):
        wait = int(exc.wait or 1)  # type: ignore[attr-defined]  # set by __init__; not in the stubs
        return errors.RateLimited(
            f"Too many requests; retry in {wait} s.", details={"retry_after": wait}
        )
    if isinstance(exc, RequestDataTooBig):
        return errors.PayloadTooLarge()
    if isinstance(exc, DjangoValidationError):
        return errors.ValidationFailed("; ".join(exc.messages))
    if isinstance(exc, drf.MethodNotAllowed):
        return _HttpStatusError(exc, "METHOD_NOT_ALLOWED")
    if isinstance(exc, drf.NotAcceptable):
        return _HttpStatusError(exc, "NOT_ACCEPTABLE")
    if isinstance(exc, drf.UnsupportedMediaType):
        return _HttpStatusError(exc, "UNSUPPORTED_MEDIA_TYPE")
    if isinstance(exc, drf.APIException):
        return _HttpStatusError(exc, "REQUEST_ERROR")
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    error = _to_platform_error(exc)
    if error is None:
        view = context.get("view")
        logger.exception("unhandled error in %s", type(view).__name__ if view else "API view")
        error = errors.PlatformError()
    set_rollback()
    response = Response(error_body(error), status=error.status_code)
    if isinstance(error, errors.RateLimited):
        response["Retry-After"] = str(error.details["retry_after"])
    if isinstance(error, errors.AuthenticationFailed):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
