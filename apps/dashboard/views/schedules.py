"""Schedules on the agent page: pause/resume, delete, and the cron helper (the next firing
times, computed with the schedules app's own crontab logic). Creating one goes through the
agent's run form (`agents.agent_schedule_create`, `save_schedule`) so it carries the form's
inputs. The schedule's page shows its next firings and ledger and changes its `catch_up`."""

import uuid
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.common.exceptions import ValidationFailed
from apps.dashboard.forms import CatchUpForm
from apps.dashboard.views.common import not_found_as_404
from apps.schedules import cron
from apps.schedules import selectors as schedule_selectors
from apps.schedules import services as schedule_services
from apps.schedules.models import Schedule
from apps.users.requests import AuthenticatedHttpRequest

PREVIEW_RUNS = 5


def next_run_times(expression: str, tz_name: str, count: int = PREVIEW_RUNS) -> list[datetime]:
    """The next `count` firings of a cron in a time zone (ValidationFailed names the field)."""
    cron.check_timezone(tz_name)
    times: list[datetime] = []
    after = None
    for _ in range(count):
        after = cron.next_run_time(expression, tz_name, after=after)
        times.append(after)
    return times


def next_run_times_or_none(expression: str, tz_name: str) -> list[datetime]:
    """The preview the page renders itself; nothing for a cron the form will name as wrong."""
    try:
        return next_run_times(expression, tz_name)
    except ValidationFailed:
        return []


@login_required
@require_GET
def cron_preview(request: AuthenticatedHttpRequest) -> JsonResponse:
    expression = request.GET.get("cron", "")
    tz_name = request.GET.get("timezone", "") or request.user.timezone
    try:
        times = next_run_times(expression, tz_name)
    except ValidationFailed as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse(
        {
            "timezone": tz_name,
            "next": [t.isoformat() for t in times],
            "shown": [t.strftime("%a %-d %b %Y, %H:%M %Z") for t in times],
        }
    )


def _schedule_page(
    request: AuthenticatedHttpRequest,
    schedule: Schedule,
    form: CatchUpForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "dashboard/schedule.html",
        {
            "schedule": schedule,
            "next_times": schedule_selectors.schedule_next_run_times(schedule),
            "ledger": schedule_selectors.schedule_attempt_list(schedule=schedule, limit=100),
            "catch_up_form": form or CatchUpForm(initial={"catch_up": schedule.catch_up}),
            "nav_section": "agents",
        },
        status=status,
    )


@login_required
@require_GET
@not_found_as_404
def schedule_detail(request: AuthenticatedHttpRequest, schedule_id: uuid.UUID) -> HttpResponse:
    """A schedule's page: its next 5 firing times and its firing ledger (SPEC §17)."""
    schedule = schedule_selectors.schedule_get(user=request.user, schedule_id=schedule_id)
    return _schedule_page(request, schedule)


@login_required
@require_POST
@not_found_as_404
def schedule_catch_up(request: AuthenticatedHttpRequest, schedule_id: uuid.UUID) -> HttpResponse:
    """Change what happens to firings missed while the scheduler was down (`schedule_update`,
    the API's PATCH); a value the form does not offer is shown on the form (400)."""
    schedule = schedule_selectors.schedule_get(user=request.user, schedule_id=schedule_id)
    form = CatchUpForm(request.POST)
    if not form.is_valid():
        return _schedule_page(request, schedule, form, status=400)
    schedule_services.schedule_update(schedule=schedule, catch_up=form.cleaned_data["catch_up"])
    messages.success(request, f"“{schedule.name}”: {form.choice_label()}.")
    return redirect("dashboard:schedule", schedule_id=schedule.pk)


def _back(schedule_graph_id: uuid.UUID) -> HttpResponse:
    return redirect(reverse("dashboard:agent", args=[schedule_graph_id]) + "#schedules")


@login_required
@require_POST
@not_found_as_404
def schedule_toggle(request: AuthenticatedHttpRequest, schedule_id: uuid.UUID) -> HttpResponse:
    schedule = schedule_selectors.schedule_get(user=request.user, schedule_id=schedule_id)
    enable = not schedule.is_enabled
    schedule_services.schedule_update(schedule=schedule, is_enabled=enable)
    messages.success(request, f"“{schedule.name}” {'resumed' if enable else 'paused'}.")
    return _back(schedule.graph_id)


@login_required
@require_POST
@not_found_as_404
def schedule_delete(request: AuthenticatedHttpRequest, schedule_id: uuid.UUID) -> HttpResponse:
    schedule = schedule_selectors.schedule_get(user=request.user, schedule_id=schedule_id)
    schedule_services.schedule_delete(user=request.user, schedule_id=schedule.pk)
    messages.success(request, f"Deleted the schedule “{schedule.name}”.")
    return _back(schedule.graph_id)
