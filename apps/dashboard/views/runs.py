"""The run list and the run page (live over /ws; static/js/live.js)."""

import json
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.common.exceptions import Conflict, InsufficientCredits, ValidationFailed
from apps.common.parsers import load_json
from apps.dashboard import presenters
from apps.dashboard import selectors as dashboard_selectors
from apps.dashboard.layout import graph_drawing
from apps.dashboard.views.common import not_found_as_404
from apps.executions import retry as execution_retry
from apps.executions import reviews
from apps.executions import selectors as execution_selectors
from apps.executions import services as execution_services
from apps.executions.models import ExecutionStatus
from apps.graphs import analysis
from apps.graphs import selectors as graph_selectors
from apps.graphs.compile import graph_spec_from_version
from apps.users.requests import AuthenticatedHttpRequest

# The run list follows every run of the agent it is filtered to, or else of the runs it shows and
# of this many agents, the ones changed last (one subscription each on its socket).
LIVE_AGENTS = 50


@login_required
@not_found_as_404
def run_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in ExecutionStatus.values else ""
    graph_id = request.GET.get("agent", "")
    errors = request.GET.get("errors") == "1"  # only runs in which some node failed
    agent = None
    if graph_id:
        agent = graph_selectors.graph_version_get(user=request.user, graph_id=graph_id)
    page = dashboard_selectors.run_page(
        user=request.user,
        page=request.GET.get("page", 1),
        graph_id=agent.graph_id if agent else None,
        status=status or None,
        has_errors=True if errors else None,
    )
    agents = list(graph_selectors.graph_list(user=request.user).values_list("graph_id", "name"))
    if agent:
        live_graphs = [agent.graph_id]
    else:  # the runs shown, and new runs of the agents changed last
        shown = [run.graph_id for run in page.object_list]
        live_graphs = list(dict.fromkeys(shown + [id for id, _ in agents[:LIVE_AGENTS]]))
    return render(
        request,
        "dashboard/runs.html",
        {
            "page": page,
            "status": status,
            "errors": errors,
            "statuses": ExecutionStatus.values,
            "agent": agent,
            "agents": agents,
            "live_graphs": live_graphs,
            "nav_section": "runs",
        },
    )


@login_required
@not_found_as_404
def run_detail(request: AuthenticatedHttpRequest, graph_exec_id: uuid.UUID) -> HttpResponse:
    execution = execution_selectors.graph_execution_get_detailed(
        user=request.user, graph_exec_id=graph_exec_id
    )
    version = dashboard_selectors.run_graph_version(user=request.user, execution=execution)
    spec = graph_spec_from_version(version)
    block_names = presenters.block_names_of(spec)
    node_executions = list(execution.node_executions.all())
    return render(
        request,
        "dashboard/run.html",
        {
            "execution": execution,
            "version": version,
            "drawing": graph_drawing(spec),
            "node_statuses": presenters.node_statuses(node_executions),
            "timeline": presenters.timeline(node_executions, block_names, now=timezone.now()),
            "block_names": block_names,
            "output_names": analysis.graph_output_names(spec),
            "outputs": [
                (name, [presenters.shown_value(value) for value in values])
                for name, values in (execution.outputs or {}).items()
            ],
            "cost": (execution.stats or {}).get("cost", 0),
            "reviews": [
                (review, json.dumps(review.data, indent=2, ensure_ascii=False))
                for review in reviews.review_pending_for_run(
                    user=request.user, graph_exec_id=execution.pk
                )
            ],
            "nav_section": "runs",
        },
    )


@login_required
@require_POST
@not_found_as_404
def run_stop(request: AuthenticatedHttpRequest, graph_exec_id: uuid.UUID) -> HttpResponse:
    execution = execution_services.graph_execution_stop(
        user=request.user, graph_exec_id=graph_exec_id
    )
    if request.headers.get("X-Requested-With") == "fetch":
        # The run page's script: the outcome reaches it over /ws, not as a flash message.
        return JsonResponse({"status": execution.status})
    messages.success(request, "Stop requested.")
    return redirect("dashboard:run", graph_exec_id=graph_exec_id)


@login_required
@require_POST
@not_found_as_404
def run_retry(request: AuthenticatedHttpRequest, graph_exec_id: uuid.UUID) -> HttpResponse:
    """The run page's Retry (SPEC §17): a new run from this one's failures, opened at once."""
    try:
        execution = execution_retry.graph_execution_retry(
            user=request.user, graph_exec_id=graph_exec_id
        )
    except (Conflict, ValidationFailed, InsufficientCredits) as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:run", graph_exec_id=graph_exec_id)
    messages.success(request, "Retrying: the nodes that completed keep their outputs.")
    return redirect("dashboard:run", graph_exec_id=execution.id)


@login_required
@require_POST
@not_found_as_404
def run_review_decide(
    request: AuthenticatedHttpRequest, graph_exec_id: uuid.UUID, review_id: uuid.UUID
) -> HttpResponse:
    """The run page's review card: approve (with the edited data when the review is
    editable and the text changed), or reject. Refusals (409, 400) show as messages."""
    review = reviews.review_get(user=request.user, review_id=review_id)
    approved = request.POST.get("decision") == "approve"
    extra = {}
    text = request.POST.get("data")
    if approved and review.editable and text is not None and text.strip():
        try:
            edited = load_json(text)
        except ValidationFailed as exc:
            messages.error(request, f"The data is not valid JSON: {exc.message}")
            return redirect("dashboard:run", graph_exec_id=graph_exec_id)
        if edited != review.data:
            extra["data"] = edited
    try:
        reviews.review_decide(
            user=request.user,
            review_id=review.pk,
            approved=approved,
            message=request.POST.get("message", "")[:2000],
            **extra,
        )
    except (Conflict, ValidationFailed) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Approved: the run goes on." if approved else "Rejected.")
    return redirect("dashboard:run", graph_exec_id=graph_exec_id)


@login_required
@require_POST
@not_found_as_404
def run_share(request: AuthenticatedHttpRequest, graph_exec_id: uuid.UUID) -> HttpResponse:
    execution = execution_selectors.graph_execution_get(
        user=request.user, graph_exec_id=graph_exec_id
    )
    if request.POST.get("share") == "off":
        execution_services.graph_execution_unshare(
            user=request.user, graph_id=execution.graph_id, graph_exec_id=execution.pk
        )
        messages.success(request, "The public link no longer works.")
    else:
        execution_services.graph_execution_share(
            user=request.user, graph_id=execution.graph_id, graph_exec_id=execution.pk
        )
        messages.success(request, "Anyone with the link can see this run's outputs.")
    return redirect("dashboard:run", graph_exec_id=graph_exec_id)


@login_required
@require_POST
@not_found_as_404
def run_delete(request: AuthenticatedHttpRequest, graph_exec_id: uuid.UUID) -> HttpResponse:
    execution_services.graph_execution_delete(user=request.user, graph_exec_id=graph_exec_id)
    messages.success(request, "Run deleted.")
    return redirect("dashboard:runs")


@not_found_as_404
def shared_run(request: HttpRequest, share_token: str) -> HttpResponse:
    """A run's public page: its agent's name, status and outputs; nothing of its owner, inputs
    or nodes (the same as GET /api/public/shared/{token})."""
    execution = execution_selectors.graph_execution_get_shared(share_token=share_token)
    response = render(
        request,
        "dashboard/shared_run.html",
        {
            "execution": execution,
            "outputs": [
                (name, [presenters.shown_value(value) for value in values])
                for name, values in (execution.outputs or {}).items()
            ],
        },
    )
    response["X-Robots-Tag"] = "noindex"
    return response
