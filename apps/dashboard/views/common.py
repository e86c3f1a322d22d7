"""What every dashboard view shares: platform errors become a 404 page or a message."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from apps.common.exceptions import GraphValidationFailed, NotFound, PlatformError


def not_found_as_404(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Selectors raise NotFound for another user's object; pages answer the HTML 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None

    return wrapper


def error_lines(exc: PlatformError) -> list[str]:
    """A platform error as lines a person can act on (graph errors name their node)."""
    if isinstance(exc, GraphValidationFailed):
        return [
            f"{node}: {pin + ': ' if pin and pin != 'graph' else ''}{message}"
            for node, pins in exc.node_errors.items()
            for pin, message in (pins.items() if isinstance(pins, dict) else [("", str(pins))])
        ] or [exc.message]
    return [exc.message]
