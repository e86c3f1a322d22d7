"""The builder pages (SPEC §14): Django renders the dashboard's layout with a small JSON
bootstrap and the island (frontend/builder, built into static/builder/) does the rest through
the REST API with the session."""

import os
import uuid

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse

from apps.chat.copilot.actions import copilot_proposal_get
from apps.dashboard.views.agents import requested_version
from apps.dashboard.views.common import not_found_as_404
from apps.graphs import selectors as graph_selectors
from apps.integrations import selectors as integration_selectors
from apps.integrations.providers import PROVIDERS
from apps.users.models import User
from apps.users.requests import AuthenticatedHttpRequest

BUNDLE = "builder/builder.js"


def _bundle_version() -> str | None:
    """The bundle's modification time, added to its URL so a rebuilt bundle is fetched anew
    (its name is fixed); None when it was never built."""
    found = finders.find(BUNDLE)
    return str(int(os.path.getmtime(found))) if found else None


def _credentials_by_provider(user: User) -> dict[str, list[dict[str, str]]]:
    """The user's credentials as {provider: [{id, title, type}]}, newest first: the node's
    picker lists only those of its block's provider and credential types."""
    found: dict[str, list[dict[str, str]]] = {}
    for credential in integration_selectors.credential_list(user=user).order_by("-created_at"):
        found.setdefault(credential.provider, []).append(
            {
                "id": str(credential.pk),
                "title": credential.title,
                "type": credential.credential_type,
            }
        )
    return found


def _builder_page(
    request: AuthenticatedHttpRequest,
    *,
    graph_id: str | None,
    version: int | None,
    from_graph_id: str | None,
    title: str,
    proposal_id: str | None = None,
) -> HttpResponse:
    bootstrap = {
        "graphId": graph_id,
        "version": version,
        "fromGraphId": from_graph_id,
        "proposalId": proposal_id,
        "credentials": _credentials_by_provider(request.user),
        "providers": {provider.name: provider.title for provider in PROVIDERS.values()},
        "csrfToken": get_token(request),
        "urls": {
            "blocks": reverse("block-list"),
            "agents": reverse("dashboard:agents"),
            "credentials": reverse("dashboard:credentials"),
        },
    }
    return render(
        request,
        "dashboard/builder.html",
        {
            "bootstrap": bootstrap,
            # A checkout whose bundle was never built says so instead of showing an empty page.
            "bundle_version": _bundle_version(),
            "page_title": title,
            "nav_section": "agents",
        },
    )


@login_required
@not_found_as_404
def agent_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A blank agent, or (`?from=<graph id>`) a copy of a template or an agent the user can see,
    or (`?proposal=<id>`) a graph the user's chat copilot proposed, opened unsaved."""
    from_graph_id = request.GET.get("from") or None
    title = "New agent"
    if request.GET.get("proposal"):
        proposal = copilot_proposal_get(user=request.user, proposal_id=request.GET["proposal"])
        return _builder_page(
            request,
            graph_id=None,
            version=None,
            from_graph_id=None,
            title=f"Proposal: {proposal.name}",
            proposal_id=str(proposal.pk),
        )
    if from_graph_id:
        source = graph_selectors.graph_version_get(user=request.user, graph_id=from_graph_id)
        title = f"New agent from {source.name}"
        from_graph_id = str(source.graph_id)
    return _builder_page(
        request, graph_id=None, version=None, from_graph_id=from_graph_id, title=title
    )


@login_required
@not_found_as_404
def agent_edit(request: AuthenticatedHttpRequest, graph_id: uuid.UUID) -> HttpResponse:
    version_number = requested_version(request)
    version = graph_selectors.graph_version_get(
        user=request.user, graph_id=graph_id, version=version_number
    )
    return _builder_page(
        request,
        graph_id=str(graph_id),
        version=version_number,
        from_graph_id=None,
        title=f"Edit {version.name}",
    )
