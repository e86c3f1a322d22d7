"""The store (browse, a listing with its versions and reviews, submitting an agent, the
creator's submissions) and the library (list, run, favourite, archive, fork)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.common.exceptions import NotFound, PlatformError
from apps.dashboard import selectors as dashboard_selectors
from apps.dashboard.forms import BudgetForm, StoreReviewForm, SubmitForm
from apps.dashboard.layout import graph_drawing
from apps.dashboard.presenters import block_names_of, credential_providers_of
from apps.dashboard.views.agents import (
    RECENT_RUNS,
    agent_context,
    credential_choices,
    requested_version,
    run_form,
)
from apps.dashboard.views.common import error_lines, not_found_as_404, paginated
from apps.executions import selectors as execution_selectors
from apps.graphs import analysis
from apps.graphs.compile import graph_spec_from_version
from apps.store import selectors as store_selectors
from apps.store import services as store_services
from apps.store.models import StoreListingVersion
from apps.users.requests import AuthenticatedHttpRequest

LISTINGS_PER_PAGE = 24
SUBMISSIONS_PER_PAGE = 50
LIBRARY_PER_PAGE = 50
SORT_LABELS = {"runs": "Most runs", "rating": "Best rated", "newest": "Newest"}


@login_required
def store_browse(request: AuthenticatedHttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:200]
    category = request.GET.get("category", "").strip()[:50]
    sort = request.GET.get("sort", "")
    sorts = {"relevance": "Best match", **SORT_LABELS} if search else SORT_LABELS
    if sort not in sorts:
        sort = ""
    agents = store_selectors.store_agent_list(
        user=request.user, search=search or None, category=category or None, sort=sort or None
    )
    return render(
        request,
        "dashboard/store.html",
        {
            **paginated(request, agents, LISTINGS_PER_PAGE),
            "q": search,
            "category": category,
            "sort": sort,
            "sorts": sorts,
            "pending_reviews": (
                store_selectors.admin_submission_list(status="pending").count()
                if request.user.is_staff
                else None
            ),
            "nav_section": "store",
        },
    )


def _listing_context(request: AuthenticatedHttpRequest, username: str, slug: str) -> dict:
    detail = store_selectors.store_agent_detail(user=request.user, username=username, slug=slug)
    agent = detail.agent
    mine = dashboard_selectors.store_review_of(user=request.user, listing_id=agent.listing_id)
    library = store_selectors.library_agent_list(user=request.user).filter(
        listing_id=agent.listing_id
    )
    initial = {"score": mine.score, "comments": mine.comments} if mine else {"score": 5}
    return {
        "agent": agent,
        "creator": agent.listing.owner.store_profile,
        "versions": detail.versions,
        "reviews": detail.reviews,
        "my_review": mine,
        "is_creator": agent.listing.owner_id == request.user.pk,
        "in_library": library.first(),
        "review_form": StoreReviewForm(initial=initial),
        "nav_section": "store",
    }


@login_required
@not_found_as_404
def store_listing(request: AuthenticatedHttpRequest, username: str, slug: str) -> HttpResponse:
    return render(
        request, "dashboard/store_listing.html", _listing_context(request, username, slug)
    )


@login_required
@require_POST
@not_found_as_404
def store_review(request: AuthenticatedHttpRequest, username: str, slug: str) -> HttpResponse:
    form = StoreReviewForm(request.POST)
    if form.is_valid():
        try:
            _, created = store_services.review_submit(
                user=request.user, username=username, slug=slug, **form.cleaned_data
            )
        except NotFound:
            raise
        except PlatformError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Review saved." if created else "Review updated.")
            return redirect("dashboard:store-listing", username=username, slug=slug)
    context = _listing_context(request, username, slug)
    context["review_form"] = form
    return render(request, "dashboard/store_listing.html", context, status=400)


@login_required
@require_POST
@not_found_as_404
def store_add_to_library(
    request: AuthenticatedHttpRequest, username: str, slug: str
) -> HttpResponse:
    agent = store_selectors.store_agent_get(user=request.user, username=username, slug=slug)
    library_agent, created = store_services.library_agent_add(
        user=request.user, listing_version_id=agent.pk
    )
    messages.success(
        request, f"Added “{agent.name}” to your library." if created else "Already in your library."
    )
    return redirect("dashboard:library-agent", library_agent_id=library_agent.pk)


@login_required
@require_POST
@not_found_as_404
def agent_submit(request: AuthenticatedHttpRequest, graph_id: uuid.UUID) -> HttpResponse:
    """“Submit to the store” from the agent page: the version shown, for staff to review."""
    form = SubmitForm(request.POST)
    context = agent_context(request, graph_id, requested_version(request))
    if form.is_valid():
        try:
            submission = store_services.submission_create(
                user=request.user,
                graph_id=graph_id,
                graph_version=context["version"].version,
                **form.submission_fields(),
            )
        except NotFound:
            raise
        except PlatformError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Submitted “{submission.name}” v{submission.version} for review.",
            )
            return redirect("dashboard:submissions")
    context.update(run_form=run_form(context), submit_form=form)
    return render(request, "dashboard/agent.html", context, status=400)


@login_required
@not_found_as_404
def submissions(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in StoreListingVersion.Status.values else ""
    rows = store_selectors.submission_list(user=request.user, status=status or None)
    try:
        username = store_selectors.profile_get(user=request.user).username
    except NotFound:
        username = ""  # no submission yet
    return render(
        request,
        "dashboard/submissions.html",
        {
            "username": username,
            **paginated(request, rows, SUBMISSIONS_PER_PAGE),
            "status": status,
            "statuses": StoreListingVersion.Status.values,
            "nav_section": "store",
        },
    )


@login_required
@not_found_as_404
def submission_edit(request: AuthenticatedHttpRequest, version_id: uuid.UUID) -> HttpResponse:
    """A draft or pending version changes in place; an edit of an approved one becomes the
    next version, for review (the approved one stays in the store meanwhile)."""
    submission = store_selectors.submission_get(user=request.user, version_id=version_id)
    status = 200
    if request.method == "POST":
        form = SubmitForm(request.POST)
        if form.is_valid():
            try:
                saved = store_services.submission_update(
                    user=request.user, version_id=version_id, **form.submission_fields()
                )
            except NotFound:
                raise
            except PlatformError as exc:
                form.add_error(None, exc.message)
            else:
                if saved.pk == submission.pk:
                    messages.success(request, f"Saved v{saved.version} of “{saved.name}”.")
                else:
                    messages.success(
                        request, f"Your changes are v{saved.version}, waiting for review."
                    )
                return redirect("dashboard:submissions")
        status = 400
    else:
        form = SubmitForm(
            initial={
                **{name: getattr(submission, name) for name in SubmitForm.base_fields},
                "categories": ", ".join(submission.categories),
            }
        )
    return render(
        request,
        "dashboard/submission_edit.html",
        {"submission": submission, "form": form, "nav_section": "store"},
        status=status,
    )


@login_required
@require_POST
@not_found_as_404
def submission_withdraw(request: AuthenticatedHttpRequest, version_id: uuid.UUID) -> HttpResponse:
    try:
        store_services.submission_delete(user=request.user, version_id=version_id)
    except NotFound:
        raise
    except PlatformError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Submission withdrawn.")
    return redirect("dashboard:submissions")


# --- library ---------------------------------------------------------------------------------


@login_required
def library(request: AuthenticatedHttpRequest) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    search = request.GET.get("q", "").strip()[:200]
    agents = store_selectors.library_agent_list(
        user=request.user, archived=archived, search=search or None
    )
    return render(
        request,
        "dashboard/library.html",
        {
            **paginated(request, agents, LIBRARY_PER_PAGE),
            "archived": archived,
            "q": search,
            "nav_section": "library",
        },
    )


def _library_context(request: AuthenticatedHttpRequest, library_agent_id: uuid.UUID) -> dict:
    agent = store_selectors.library_agent_get(user=request.user, library_agent_id=library_agent_id)
    version = store_selectors.library_agent_graph_version(user=request.user, agent=agent)
    spec = graph_spec_from_version(version)
    # Annotated by store selectors._library; the model does not declare it.
    active_version_id = agent.active_version_id  # type: ignore[attr-defined]
    return {
        "agent": agent,
        "listing_version": agent.listing_version,
        "creator": agent.listing.owner.store_profile,
        "runnable": agent.listing_version.status == StoreListingVersion.Status.APPROVED,
        "update_available": active_version_id not in (None, agent.listing_version_id),
        "drawing": graph_drawing(spec),
        "schema": analysis.graph_input_schema(spec),
        "credentials": credential_choices(request.user, credential_providers_of(spec)),
        "estimate": analysis.graph_cost_estimate(spec),
        "block_names": block_names_of(spec),
        "recent_runs": execution_selectors.graph_execution_list(
            user=request.user, graph_id=agent.listing.graph_id
        )[:RECENT_RUNS],
        "nav_section": "library",
    }


@login_required
@not_found_as_404
def library_agent(request: AuthenticatedHttpRequest, library_agent_id: uuid.UUID) -> HttpResponse:
    context = _library_context(request, library_agent_id)
    context.update(run_form=run_form(context), budget_form=BudgetForm())
    return render(request, "dashboard/library_agent.html", context)


@login_required
@require_POST
@not_found_as_404
def library_agent_run(
    request: AuthenticatedHttpRequest, library_agent_id: uuid.UUID
) -> HttpResponse:
    context = _library_context(request, library_agent_id)
    form = run_form(context, request.POST)
    budget = BudgetForm(request.POST)
    problems: list[str] = []
    if form.is_valid() and budget.is_valid():
        try:
            execution = store_services.library_agent_run(
                user=request.user,
                library_agent_id=library_agent_id,
                inputs=form.run_inputs(),
                credentials_inputs=form.credentials_inputs(),
                max_credits=budget.budget(),
            )
        except PlatformError as exc:
            problems = error_lines(exc, context["block_names"])
        else:
            return redirect("dashboard:run", graph_exec_id=execution.id)
    context.update(run_form=form, budget_form=budget, run_problems=problems)
    return render(request, "dashboard/library_agent.html", context, status=400)


LIBRARY_FLAGS = {
    "favorite": ("is_favorite", True, "Added to favourites."),
    "unfavorite": ("is_favorite", False, "Removed from favourites."),
    "archive": ("is_archived", True, "Archived."),
    "unarchive": ("is_archived", False, "Back in your library."),
    "follow": ("auto_update", True, "Now follows the store's newest version."),
    "pin": ("auto_update", False, "Stays on this version."),
}


@login_required
@require_POST
@not_found_as_404
def library_agent_update(
    request: AuthenticatedHttpRequest, library_agent_id: uuid.UUID
) -> HttpResponse:
    store_selectors.library_agent_get(user=request.user, library_agent_id=library_agent_id)
    action = LIBRARY_FLAGS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, "Unknown action.")
    else:
        field, value, done = action
        store_services.library_agent_update(
            user=request.user, library_agent_id=library_agent_id, **{field: value}
        )
        messages.success(request, done)
    back = request.POST.get("next", "")
    if back.startswith("/library") and "//" not in back:
        return redirect(back)
    return redirect("dashboard:library-agent", library_agent_id=library_agent_id)


@login_required
@require_POST
@not_found_as_404
def library_agent_fork(
    request: AuthenticatedHttpRequest, library_agent_id: uuid.UUID
) -> HttpResponse:
    try:
        version = store_services.library_agent_fork(
            user=request.user, library_agent_id=library_agent_id
        )
    except NotFound:
        raise
    except PlatformError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:library-agent", library_agent_id=library_agent_id)
    messages.success(request, f"Forked into My agents as “{version.name}”.")
    if request.POST.get("then") == "edit":  # "Fork and edit": straight into the builder
        return redirect("dashboard:agent-edit", graph_id=version.graph_id)
    return redirect("dashboard:agent", graph_id=version.graph_id)
