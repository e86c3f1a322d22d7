"""Builds the SPEC §7 error envelope; shared by the DRF exception handler and plain views."""

from typing import Any

from django.http import JsonResponse
from django.utils import timezone

from apps.common.exceptions import PlatformError


def error_body(error: PlatformError) -> dict[str, Any]:
    return {
        "success": False,
        "error": {
            "error_code": error.error_code,
            "message": error.message,
            "severity": str(error.severity),
            "category": str(error.category),
            "details": error.details,
            "timestamp": timezone.now().isoformat(),
        },
    }


def error_response(error: PlatformError) -> JsonResponse:
    return JsonResponse(error_body(error), status=error.status_code)
