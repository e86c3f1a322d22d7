"""The one error hierarchy of the platform (SPEC §7, seed 02 §6.2).

Services raise these; the API exception handler turns each into the error envelope
`{"success": false, "error": {error_code, message, severity, category, details, timestamp}}`.
"""

from enum import StrEnum
from typing import Any


class ErrorSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ErrorCategory(StrEnum):
    VALIDATION = "validation"
    AUTHENTICATION = "auth"
    RESOURCE = "resource"
    NETWORK = "network"
    SYSTEM = "system"
    BUSINESS = "business"


class PlatformError(Exception):
    status_code = 500
    error_code = "SYSTEM_ERROR"
    severity = ErrorSeverity.CRITICAL
    category = ErrorCategory.SYSTEM
    default_message = "Internal server error."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class ValidationFailed(PlatformError):
    status_code = 400
    error_code = "VALIDATION_ERROR"
    severity = ErrorSeverity.LOW
    category = ErrorCategory.VALIDATION
    default_message = "Invalid input."


class GraphValidationFailed(ValidationFailed):
    error_code = "GRAPH_VALIDATION_ERROR"
    severity = ErrorSeverity.HIGH
    default_message = "The graph is not valid; see details.node_errors."

    def __init__(self, node_errors: dict[str, dict[str, str]], message: str | None = None):
        super().__init__(message, details={"node_errors": node_errors})
        self.node_errors = node_errors


class AuthenticationFailed(PlatformError):
    status_code = 401
    error_code = "AUTHENTICATION_FAILED"
    severity = ErrorSeverity.MEDIUM
    category = ErrorCategory.AUTHENTICATION
    default_message = "Authentication failed."


class PermissionDenied(PlatformError):
    status_code = 403
    error_code = "PERMISSION_DENIED"
    severity = ErrorSeverity.MEDIUM
    category = ErrorCategory.AUTHENTICATION
    default_message = "You do not have permission to do this."


class NotFound(PlatformError):
    status_code = 404
    error_code = "NOT_FOUND"
    severity = ErrorSeverity.LOW
    category = ErrorCategory.BUSINESS
    default_message = "Not found."


class NotConfigured(NotFound):
    """A feature this installation has not set up (payments without Stripe keys): a lasting
    state of the installation, not a passing outage, so a 404 with its own code, not a 503."""

    error_code = "NOT_CONFIGURED"
    category = ErrorCategory.SYSTEM
    default_message = "This feature is not configured on this installation."


class InsufficientCredits(PlatformError):
    status_code = 402
    error_code = "INSUFFICIENT_CREDITS"
    severity = ErrorSeverity.HIGH
    category = ErrorCategory.RESOURCE
    default_message = "Insufficient credits; top up to continue."

    def __init__(self, *, required_credits: int, available_credits: int):
        super().__init__(
            f"Insufficient credits: {required_credits} required, {available_credits} available.",
            details={"required_credits": required_credits, "available_credits": available_credits},
        )


class BudgetExceeded(PlatformError):
    """A charge would take a run's spend past its `max_credits` (SPEC §17)."""

    status_code = 402
    error_code = "BUDGET_EXCEEDED"
    severity = ErrorSeverity.MEDIUM
    category = ErrorCategory.RESOURCE
    default_message = "The run's credit budget is spent."

    def __init__(self, *, max_credits: int, spent_credits: int, required_credits: int):
        super().__init__(
            f"Budget exceeded: {required_credits} more would pass the run's max_credits of "
            f"{max_credits} ({spent_credits} spent).",
            details={
                "max_credits": max_credits,
                "spent_credits": spent_credits,
                "required_credits": required_credits,
            },
        )


class IdempotencyKeyReused(PlatformError):
    """The same Idempotency-Key came with another request body (SPEC §17)."""

    status_code = 422
    error_code = "IDEMPOTENCY_KEY_REUSED"
    severity = ErrorSeverity.LOW
    category = ErrorCategory.VALIDATION
    default_message = "This Idempotency-Key was already used with another request."


class Conflict(PlatformError):
    status_code = 409
    error_code = "CONFLICT"
    severity = ErrorSeverity.LOW
    category = ErrorCategory.BUSINESS
    default_message = "The request conflicts with the current state."


class PayloadTooLarge(PlatformError):
    status_code = 413
    error_code = "PAYLOAD_TOO_LARGE"
    severity = ErrorSeverity.LOW
    category = ErrorCategory.VALIDATION
    default_message = "The request body is too large."


class RateLimited(PlatformError):
    status_code = 429
    error_code = "RATE_LIMITED"
    severity = ErrorSeverity.LOW
    category = ErrorCategory.RESOURCE
    default_message = "Too many requests."


class ServiceUnavailable(PlatformError):
    status_code = 503
    error_code = "SERVICE_UNAVAILABLE"
    severity = ErrorSeverity.HIGH
    category = ErrorCategory.SYSTEM
    default_message = "The service is temporarily unavailable."
