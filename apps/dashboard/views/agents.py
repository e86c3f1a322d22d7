"""My agents and the agent page: list, create from a template, import, versions, run form,
presets, analysis and cost estimate."""

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError as DrfValidationError

from apps.common.exceptions import NotFound, PermissionDenied, PlatformError
from apps.common.numbers import parse_int
from apps.dashboard import analytics
from apps.dashboard.forms import (
    BudgetForm,
    ImportForm,
    PresetForm,
    RunForm,
    ScheduleForm,
    SubmitForm,
)
from apps.dashboard.layout import graph_drawing
from apps.dashboard.presenters import block_names_of, credential_providers_of
from apps.dashboard.views.common import (
    error_lines,
    not_found_as_404,
    paginated,
)
from apps.dashboard.views.schedules import next_run_times_or_none
from apps.executions import selectors as execution_selectors
from apps.executions import services as execution_services
from apps.graphs import analysis
from apps.graphs import selectors as graph_selectors
from apps.graphs import services as graph_services
from apps.graphs.compile import graph_spec_from_payload, graph_spec_from_version
from apps.graphs.shapes import GraphInSerializer
from apps.integrations import selectors as integration_selectors
from apps.schedules import selectors as schedule_selectors
from apps.schedules import services as schedule_services
from apps.store import selectors as store_selectors
from apps.users.models import User
from apps.users.requests import AuthenticatedHttpRequest

AGENTS_PER_PAGE = 25
RECENT_RUNS = 10
RECENT_SUBMISSIONS = 5


def _agents_page(
    request: AuthenticatedHttpRequest,
    form: ImportForm,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    graphs = graph_selectors.graph_list_with_stats(user=request.user)
    return render(
        request,
        "dashboard/agents.html",
        {
            **paginated(request, graphs, AGENTS_PER_PAGE),
            "templates": graph_selectors.graph_list(user=request.user, templates=True),
            "import_form": form,
            "import_problems": problems,
            "nav_section": "agents",
        },
        status=status,
    )


@login_required
def agent_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _agents_page(request, ImportForm())


@login_required
@require_POST
@not_found_as_404
def agent_create_from_template(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        version = graph_services.graph_fork(
            user=request.user, graph_id=request.POST.get("template_id", "")
        )
    except NotFound:
        raise
    except PlatformError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:agents")
    messages.success(request, f"Created “{version.name}” from the template.")
    return redirect("dashboard:agent", graph_id=version.graph_id)


def _drf_errors(detail: object, path: str = "") -> list[str]:
    if isinstance(detail, dict):
        return [
            line
            for key, value in detail.items()
            for line in _drf_errors(value, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [f"{path}: {item}" if path else str(item) for item in detail]
        return [
            line
            for index, item in enumerate(detail)
            for line in _drf_errors(item, f"{path}[{index}]")
        ]
    return [f"{path}: {detail}" if path else str(detail)]


@login_required
@require_POST
def agent_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    problems: list[str] = []
    if form.is_valid():
        serializer = GraphInSerializer(data=form.cleaned_data["file"])
        if serializer.is_valid():
            data = dict(serializer.validated_data)
            spec = graph_spec_from_payload(data["nodes"], data["links"])
            try:  # the API's import: the same checks, errors naming the file's node ids
                version = graph_services.graph_import(
                    user=request.user,
                    name=data["name"],
                    description=data["description"],
                    spec=spec,
                    time_limit_seconds=data["time_limit_seconds"],
                )
            except PlatformError as exc:
                problems = error_lines(exc, block_names_of(spec))
            else:
                messages.success(request, f"Imported “{version.name}”.")
                return redirect("dashboard:agent", graph_id=version.graph_id)
        else:
            problems = _drf_errors(DrfValidationError(serializer.errors).detail)
    else:
        problems = [str(error) for errors in form.errors.values() for error in errors]
    return _agents_page(request, form, problems, status=400)


def requested_version(request: HttpRequest) -> int | None:
    version = parse_int(request.GET.get("version"))
    return version if version is not None and version > 0 else None


def credential_choices(user: User, providers: list[str]) -> dict[str, list[tuple[str, str]]]:
    """For each provider, the user's credentials as (id, title), newest first (one query)."""
    choices: dict[str, list[tuple[str, str]]] = {provider: [] for provider in providers}
    if providers:
        rows = integration_selectors.credential_list(user=user).filter(provider__in=providers)
        for credential in rows.order_by("-created_at"):
            title = credential.title
            if credential.status == credential.Status.NEEDS_REAUTH:
                title += " (needs re-authorization)"  # picking it fails the node: say so first
            choices[credential.provider].append((str(credential.pk), title))
    return choices


def agent_context(
    request: AuthenticatedHttpRequest, graph_id: uuid.UUID, version_number: int | None
) -> dict:
    version = graph_selectors.graph_version_get(
        user=request.user, graph_id=graph_id, version=version_number
    )
    spec = graph_spec_from_version(version)
    schema = analysis.graph_input_schema(spec)
    estimate = analysis.graph_cost_estimate(spec)
    is_owner = version.graph.user_id == request.user.pk
    schedules = schedule_selectors.schedule_list(user=request.user, graph_id=graph_id)
    submissions: list = []
    store_username = ""
    if is_owner:
        submissions = list(
            store_selectors.submission_list(user=request.user).filter(listing__graph_id=graph_id)[
                :RECENT_SUBMISSIONS
            ]
        )
        if any(s.is_active for s in submissions):
            store_username = store_selectors.profile_get(user=request.user).username
    return {
        "version": version,
        "graph": version.graph,
        "is_owner": is_owner,
        "drawing": graph_drawing(spec),
        "schema": schema,
        "credentials": credential_choices(request.user, credential_providers_of(spec)),
        "analysis": analysis.graph_analysis(spec),
        "estimate": estimate,
        "block_names": block_names_of(spec),
        "versions": graph_selectors.graph_version_list(user=request.user, graph_id=graph_id),
        "presets": graph_selectors.preset_list(user=request.user, graph_id=graph_id),
        "recent_runs": execution_selectors.graph_execution_list(
            user=request.user, graph_id=graph_id
        )[:RECENT_RUNS],
        "schedules": [
            (schedule, schedule_selectors.schedule_next_run_time(schedule))
            for schedule in schedules
        ],
        "submissions": submissions,
        "store_username": store_username,
        "last_30_days": analytics.agent_total(user=request.user, graph_id=version.graph_id),
        "preset_form": PresetForm(),
        "budget_form": BudgetForm(),
        "schedule_form": ScheduleForm(initial={"timezone": request.user.timezone}),
        "cron_next": next_run_times_or_none(ScheduleForm.DEFAULT_CRON, request.user.timezone),
        "submit_form": SubmitForm(
            initial={"name": version.name, "description": version.description}
        ),
        "nav_section": "agents",
    }


def run_form(context: dict, data: Any = None) -> RunForm:
    return RunForm(data, schema=context["schema"], credentials=context["credentials"])


@login_required
@not_found_as_404
def agent_detail(request: AuthenticatedHttpRequest, graph_id: uuid.UUID) -> HttpResponse:
    context = agent_context(request, graph_id, requested_version(request))
    context["run_form"] = run_form(context)
    return render(request, "dashboard/agent.html", context)


@login_required
@require_POST
@not_found_as_404
def agent_activate_version(
    request: AuthenticatedHttpRequest, graph_id: uuid.UUID, version: int
) -> HttpResponse:
    try:
        graph_services.graph_set_active_version(
            user=request.user, graph_id=graph_id, version=version
        )
    except PermissionDenied as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Version {version} is now active.")
    return redirect("dashboard:agent", graph_id=graph_id)


def _posted_run_form(
    request: AuthenticatedHttpRequest, graph_id: uuid.UUID
) -> tuple[dict, RunForm]:
    """The agent page's context for the requested version, and its run form as posted."""
    context = agent_context(request, graph_id, requested_version(request))
    return context, run_form(context, request.POST)


def _run_form_again(
    request: HttpRequest,
    context: dict,
    form: RunForm,
    problems: list[str] | None = None,
    *,
    preset_form: PresetForm | None = None,
    schedule_form: ScheduleForm | None = None,
    budget_form: BudgetForm | None = None,
) -> HttpResponse:
    """The agent page again (400) with the posted forms and what is wrong with them."""
    context.update(
        run_form=form,
        run_problems=problems or [],
        preset_form=preset_form or PresetForm(),
        budget_form=budget_form or BudgetForm(),
        schedule_form=schedule_form or context["schedule_form"],
    )
    if schedule_form is not None:
        context["cron_next"] = next_run_times_or_none(
            request.POST.get("cron", ""), request.POST.get("timezone", "")
        )
    return render(request, "dashboard/agent.html", context, status=400)


@login_required
@require_POST
@not_found_as_404
def agent_run(request: AuthenticatedHttpRequest, graph_id: uuid.UUID) -> HttpResponse:
    """Start a run of the requested version with the run form's inputs and budget cap."""
    context, form = _posted_run_form(request, graph_id)
    budget = BudgetForm(request.POST)
    if not (form.is_valid() and budget.is_valid()):
        return _run_form_again(request, context, form, budget_form=budget)
    try:
        execution = execution_services.graph_execution_start(
            user=request.user,
            graph_id=graph_id,
            graph_version=context["version"].version,
            inputs=form.run_inputs(),
            credentials_inputs=form.credentials_inputs(),
            max_credits=budget.budget(),
        )
    except PlatformError as exc:
        problems = error_lines(exc, context["block_names"])
        return _run_form_again(request, context, form, problems, budget_form=budget)
    return redirect("dashboard:run", graph_exec_id=execution.id)


@login_required
@require_POST
@not_found_as_404
def agent_preset_create(request: AuthenticatedHttpRequest, graph_id: uuid.UUID) -> HttpResponse:
    """Save the run form's inputs as a preset of the requested version."""
    context, form = _posted_run_form(request, graph_id)
    preset_form = PresetForm(request.POST)
    if not (form.is_valid() and preset_form.is_valid()):
        return _run_form_again(request, context, form, preset_form=preset_form)
    try:
        graph_services.preset_create(
            user=request.user,
            graph_id=graph_id,
            graph_version=context["version"].version,
            name=preset_form.cleaned_data["preset_name"],
            inputs=form.run_inputs(),
            credentials_inputs=form.credentials_inputs(),
        )
    except PlatformError as exc:
        problems = error_lines(exc, context["block_names"])
        return _run_form_again(request, context, form, problems, preset_form=preset_form)
    messages.success(request, "Preset saved.")
    return redirect("dashboard:agent", graph_id=graph_id)


@login_required
@require_POST
@not_found_as_404
def agent_schedule_create(request: AuthenticatedHttpRequest, graph_id: uuid.UUID) -> HttpResponse:
    """Schedule runs of the requested version with the run form's inputs (the schedules card's
    fields belong to the run form)."""
    context, form = _posted_run_form(request, graph_id)
    schedule_form = ScheduleForm(request.POST, initial={"timezone": request.user.timezone})
    if not (form.is_valid() and schedule_form.is_valid()):
        return _run_form_again(request, context, form, schedule_form=schedule_form)
    try:
        schedule = schedule_services.schedule_create(
            user=request.user,
            graph_id=graph_id,
            graph_version=context["version"].version,
            name=schedule_form.cleaned_data["schedule_name"],
            cron=schedule_form.cleaned_data["cron"],
            timezone=schedule_form.cleaned_data["timezone"],
            inputs=form.run_inputs(),
            credentials_inputs=form.credentials_inputs(),
            catch_up=schedule_form.cleaned_data["catch_up"],
        )
    except PlatformError as exc:
        problems = error_lines(exc, context["block_names"])
        fields = exc.details.get("fields")
        schedule_fields = (
            set(fields) & {"cron", "timezone", "catch_up"} if isinstance(fields, dict) else ()
        )
        for name in schedule_fields:  # shown on the field itself, not above the run form
            schedule_form.add_error(name, exc.message)
        if schedule_fields:
            problems = []
        return _run_form_again(request, context, form, problems, schedule_form=schedule_form)
    messages.success(request, f"Scheduled “{schedule.name}”.")
    return redirect(reverse("dashboard:agent", args=[graph_id]) + "#schedules")


@login_required
@require_POST
@not_found_as_404
def preset_run(
    request: AuthenticatedHttpRequest, graph_id: uuid.UUID, preset_id: uuid.UUID
) -> HttpResponse:
    """Run a preset, with the budget cap typed next to its Run button; a bad budget shows on
    that preset's row."""
    budget = BudgetForm(request.POST)
    if not budget.is_valid():
        preset = graph_selectors.preset_get(user=request.user, preset_id=preset_id)
        if preset.graph_id != graph_id:  # its row would not be on this agent's page
            raise NotFound("Preset not found.")
        context = agent_context(request, graph_id, None)
        context.update(run_form=run_form(context), preset_budget=(preset.pk, budget))
        return render(request, "dashboard/agent.html", context, status=400)
    try:
        execution = execution_services.graph_execution_start(
            user=request.user, graph_id=graph_id, preset_id=preset_id, max_credits=budget.budget()
        )
    except NotFound:
        raise
    except PlatformError as exc:
        for line in error_lines(exc):
            messages.error(request, line)
        return redirect("dashboard:agent", graph_id=graph_id)
    return redirect("dashboard:run", graph_exec_id=execution.id)


@login_required
@require_POST
@not_found_as_404
def preset_delete(
    request: AuthenticatedHttpRequest, graph_id: uuid.UUID, preset_id: uuid.UUID
) -> HttpResponse:
    graph_services.preset_delete(user=request.user, preset_id=preset_id)
    messages.success(request, "Preset deleted.")
    return redirect("dashboard:agent", graph_id=graph_id)


TOP_UP_RETURNS = {
    "success": "Thank you: your credits appear as soon as the payment is confirmed.",
    "cancelled": "The top-up was cancelled; nothing was charged.",
}


def home(request: HttpRequest) -> HttpResponse:
    """The start page: signed-in users go straight to their agents, or back from Stripe
    Checkout (whose return address is `/?top_up=…`) to their credits."""
    if request.user.is_authenticated:
        returned = TOP_UP_RETURNS.get(request.GET.get("top_up", ""))
        if returned:
            messages.info(request, returned)
            return redirect("dashboard:credits")
        return redirect("dashboard:agents")
    return render(request, "home.html")
