"""Charts people look at rather than read: an agent's last 30 days for its owner and the
platform's health for staff. Pages carry <canvas data-chart> elements; the charts island
(frontend/charts) draws them from the JSON these views answer."""

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from apps.dashboard import analytics
from apps.dashboard.views.common import not_found_as_404, staff_only
from apps.graphs import selectors as graph_selectors
from apps.graphs.blocks.registry import get_block
from apps.users.requests import AuthenticatedHttpRequest


@login_required
@not_found_as_404
def agent_analytics(request: AuthenticatedHttpRequest, graph_id: uuid.UUID) -> JsonResponse:
    graph = graph_selectors.graph_get(user=request.user, graph_id=graph_id)
    return JsonResponse(analytics.agent_daily(user=request.user, graph_id=graph.pk))


def _platform_figures(request: AuthenticatedHttpRequest) -> dict:
    blocks = analytics.slowest_blocks()
    for row in blocks:
        block = get_block(row["block_id"])
        row["name"] = block.name if block else row["block_id"]
    return {
        **analytics.platform_daily(tz_name=request.user.timezone),
        "queue": analytics.queue_depth(),
        "slowest_blocks": blocks,
    }


@staff_only
def platform_analytics(request: AuthenticatedHttpRequest) -> JsonResponse:
    return JsonResponse(_platform_figures(request))


@staff_only
def platform(request: AuthenticatedHttpRequest) -> HttpResponse:
    figures = _platform_figures(request)
    return render(
        request,
        "dashboard/platform.html",
        {
            "figures": figures,
            "totals": {
                key: sum(day[key] for day in figures["series"])
                for key in ("runs", "failed", "credits")
            },
            "nav_section": "platform",
        },
    )
