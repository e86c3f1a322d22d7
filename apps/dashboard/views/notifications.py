"""The notifications page (list, mark read, read all); the unread count in the top bar is
`nav.unread_notifications`, and static/js/live.js bumps it when one arrives on /ws."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.dashboard.views.common import not_found_as_404, paginated
from apps.notifications import selectors as notification_selectors
from apps.notifications import services as notification_services
from apps.users.requests import AuthenticatedHttpRequest

NOTIFICATIONS_PER_PAGE = 50


@login_required
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    unread = request.GET.get("unread") == "1"
    rows = notification_selectors.notification_list(user=request.user, unread=unread)
    return render(
        request,
        "dashboard/notifications.html",
        {
            **paginated(request, rows, NOTIFICATIONS_PER_PAGE),
            "unread": unread,
            "nav_section": "notifications",
        },
    )


def _answer(request: HttpRequest, text: str) -> HttpResponse:
    if request.headers.get("X-Requested-With") == "fetch":
        return JsonResponse({"ok": True})
    messages.success(request, text)
    return redirect("dashboard:notifications")


@login_required
@require_POST
@not_found_as_404
def notification_read(
    request: AuthenticatedHttpRequest, notification_id: uuid.UUID
) -> HttpResponse:
    notification_services.notification_mark_read(user=request.user, notification_id=notification_id)
    return _answer(request, "Marked as read.")


@login_required
@require_POST
def notification_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = notification_services.notification_mark_all_read(user=request.user)
    return _answer(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
