"""An agent's webhook triggers: their addresses, the switch, a secret shown once after each
rotation, the preset triggers, and the recent calls with the run each one started."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.common.exceptions import Conflict, NotFound, ValidationFailed
from apps.dashboard.views.common import not_found_as_404
from apps.graphs import selectors as graph_selectors
from apps.users.requests import AuthenticatedHttpRequest
from apps.webhooks import selectors as webhook_selectors
from apps.webhooks import services as webhook_services
from apps.webhooks.services import SIGNATURE_HEADER, TIMESTAMP_HEADER

CALLS_SHOWN = 20
SHOWN_ONCE_SESSION_KEY = "dashboard:new-webhook-secret"


@login_required
@not_found_as_404
def agent_triggers(request: AuthenticatedHttpRequest, graph_id: uuid.UUID) -> HttpResponse:
    graph = graph_selectors.graph_get(user=request.user, graph_id=graph_id)
    if graph.user_id != request.user.pk:
        raise NotFound("Graph not found.")  # a template's triggers are its owner's
    active = graph_selectors.graph_version_get(user=request.user, graph_id=graph_id)
    webhooks = list(webhook_selectors.webhook_list(user=request.user, graph_id=graph.pk))
    triggers = [
        {
            "webhook": webhook,
            "url": webhook_selectors.webhook_ingress_url(webhook),
            "calls": webhook_selectors.webhook_call_list(user=request.user, webhook_id=webhook.pk)[
                :CALLS_SHOWN
            ],
        }
        for webhook in webhooks
    ]
    with_trigger = {webhook.preset_id for webhook in webhooks}
    presets = [
        preset
        for preset in graph_selectors.preset_list(user=request.user, graph_id=graph.pk)
        if preset.pk not in with_trigger
    ]
    return render(
        request,
        "dashboard/triggers.html",
        {
            "graph": graph,
            "version": active,
            "triggers": triggers,
            "presets": presets,
            "new_secret": request.session.pop(SHOWN_ONCE_SESSION_KEY, None),
            "signature_header": SIGNATURE_HEADER,
            "timestamp_header": TIMESTAMP_HEADER,
            "nav_section": "agents",
        },
    )


def _show_secret_once(request: HttpRequest, webhook_id: uuid.UUID, secret: str) -> None:
    request.session[SHOWN_ONCE_SESSION_KEY] = {"webhook_id": str(webhook_id), "secret": secret}


@login_required
@require_POST
@not_found_as_404
def agent_trigger_rotate(
    request: AuthenticatedHttpRequest, graph_id: uuid.UUID, webhook_id: uuid.UUID
) -> HttpResponse:
    webhook, secret = webhook_services.webhook_secret_rotate(
        user=request.user, webhook_id=webhook_id
    )
    _show_secret_once(request, webhook.pk, secret)
    return redirect("dashboard:agent-triggers", graph_id=graph_id)


@login_required
@require_POST
@not_found_as_404
def agent_trigger_toggle(
    request: AuthenticatedHttpRequest, graph_id: uuid.UUID, webhook_id: uuid.UUID
) -> HttpResponse:
    webhook = webhook_selectors.webhook_get(user=request.user, webhook_id=webhook_id)
    webhook_services.webhook_set_enabled(
        user=request.user, webhook_id=webhook.pk, enabled=not webhook.enabled
    )
    messages.success(request, "Trigger turned " + ("off." if webhook.enabled else "on."))
    return redirect("dashboard:agent-triggers", graph_id=graph_id)


@login_required
@require_POST
@not_found_as_404
def agent_trigger_from_preset(
    request: AuthenticatedHttpRequest, graph_id: uuid.UUID, preset_id: uuid.UUID
) -> HttpResponse:
    try:
        webhook, secret = webhook_services.webhook_create_for_preset(
            user=request.user, preset_id=preset_id
        )
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        _show_secret_once(request, webhook.pk, secret)
    return redirect("dashboard:agent-triggers", graph_id=graph_id)
