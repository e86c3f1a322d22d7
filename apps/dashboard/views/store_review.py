"""Staff review of store submissions in the dashboard: the queue, one submission beside the
agent it publishes (and the version listed now), approve or reject with comments."""

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.common.exceptions import Conflict, NotFound
from apps.dashboard.layout import graph_drawing
from apps.dashboard.presenters import block_names_of
from apps.dashboard.views.common import not_found_as_404, paginated, staff_only
from apps.graphs import selectors as graph_selectors
from apps.graphs.compile import graph_spec_from_version
from apps.store import selectors as store_selectors
from apps.store import services as store_services
from apps.store.models import StoreListingVersion
from apps.users.requests import AuthenticatedHttpRequest

QUEUE_PER_PAGE = 25


class ReviewDecisionForm(forms.Form):
    comments = forms.CharField(
        label="Comments to the creator",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    internal_comments = forms.CharField(
        label="Notes for staff only",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@staff_only
def review_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    pending = store_selectors.admin_submission_list(status=StoreListingVersion.Status.PENDING)
    return render(
        request,
        "dashboard/review_queue.html",
        {**paginated(request, pending, QUEUE_PER_PAGE), "nav_section": "store"},
    )


def _submission(version_id: uuid.UUID) -> StoreListingVersion:
    found = store_selectors.admin_submission_list().filter(pk=version_id).first()
    if found is None:
        raise NotFound("Submission not found.")
    return found


@staff_only
@not_found_as_404
def review_submission(
    request: AuthenticatedHttpRequest, version_id: uuid.UUID, form: ReviewDecisionForm | None = None
) -> HttpResponse:
    submission = _submission(version_id)
    listing = submission.listing
    graph_version = graph_selectors.graph_version_granted(
        user=request.user, graph_id=listing.graph_id, version=submission.graph_version
    )
    spec = graph_spec_from_version(graph_version)
    listed = listing.versions.filter(is_active=True).exclude(pk=submission.pk).first()
    return render(
        request,
        "dashboard/review_submission.html",
        {
            "submission": submission,
            "creator": listing.owner.store_profile,
            "listed": listed,
            "graph_version": graph_version,
            "drawing": graph_drawing(spec),
            "blocks": sorted(set(block_names_of(spec).values())),
            "form": form or ReviewDecisionForm(),
            "nav_section": "store",
        },
        status=400 if form is not None else 200,
    )


@staff_only
@require_POST
@not_found_as_404
def review_decide(request: AuthenticatedHttpRequest, version_id: uuid.UUID) -> HttpResponse:
    form = ReviewDecisionForm(request.POST)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject") or not form.is_valid():
        return review_submission(request, version_id, form=form)
    try:
        version = store_services.submission_review(
            reviewer=request.user,
            version_id=version_id,
            is_approved=decision == "approve",
            **form.cleaned_data,
        )
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:review-submission", version_id=version_id)
    messages.success(request, f"“{version.name}” v{version.version} {version.status}.")
    return redirect("dashboard:review-queue")
