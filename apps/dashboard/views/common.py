"""What every dashboard view shares: platform errors become a 404 page or a message; staff-only
pages are a 404 to everyone else."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
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


def node_error_lines(node_errors: dict[str, Any], names: dict[str, str] | None = None) -> list[str]:
    """Graph validation errors as lines: which node (its block's name when known), which pin."""
    names = names or {}
    lines = []
    for node, pins in node_errors.items():
        where = "Graph" if node == "graph" else f"Node {node}"
        if node in names:
            where = f"{names[node]} ({node})"
        for pin, message in pins.items() if isinstance(pins, dict) else [("", str(pins))]:
            lines.append(f"{where}: {pin + ': ' if pin else ''}{message}")
    return lines


def error_lines(exc: PlatformError, names: dict[str, str] | None = None) -> list[str]:
    """A platform error as lines a person can act on (graph errors name their node)."""
    if isinstance(exc, GraphValidationFailed):
        return node_error_lines(exc.node_errors, names) or [exc.message]
    return [exc.message]


def paginated(request: HttpRequest, rows: Any, per_page: int) -> dict[str, Any]:
    """`page` (the requested page of `rows`) and `query` (the list's filters as a query string,
    without `page`), for a list template and its pager (dashboard/_pager.html)."""
    query = request.GET.copy()
    query.pop("page", None)
    page = Paginator(rows, per_page).get_page(request.GET.get("page", 1))
    return {"page": page, "query": query.urlencode()}


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Others get the same 404 as for a page that does not exist."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise Http404("Page not found.")
        return view(request, *args, **kwargs)

    return login_required(wrapper)
