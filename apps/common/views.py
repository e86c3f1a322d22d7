from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from apps.common.envelope import error_response
from apps.common.exceptions import NotFound, PlatformError
from apps.common.health import readiness_report


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers HTTP."""
    return JsonResponse({"status": "ok"})


@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: database, Redis, broker and a live worker; 503 naming what failed."""
    checks = readiness_report()
    failing = [name for name, result in checks.items() if not result["ok"]]
    return JsonResponse(
        {"status": "unavailable" if failing else "ok", "failing": failing, "checks": checks},
        status=503 if failing else 200,
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers and crawlers ask for /favicon.ico whatever the page's <link rel="icon"> says."""
    return redirect(static("favicon.svg"))


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return error_response(NotFound(f"No API endpoint at {request.path}."))
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return error_response(PlatformError())
    return render(request, "errors/500.html", status=500)
