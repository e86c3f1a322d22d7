"""The block catalogue: every block any user may put in an agent, searchable by category and
words, with its inputs, outputs and price."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from apps.dashboard import presenters
from apps.graphs import selectors as graph_selectors
from apps.graphs.blocks.base import BlockCategory
from apps.graphs.costs import block_costs
from apps.users.requests import AuthenticatedHttpRequest


@login_required
def block_catalogue(request: AuthenticatedHttpRequest) -> HttpResponse:
    category = request.GET.get("category", "").upper()
    if category not in BlockCategory.__members__:
        category = ""
    search = request.GET.get("q", "")[:200]
    everything = graph_selectors.block_list()
    counts = {c.value: sum(c in block.categories for block in everything) for c in BlockCategory}
    blocks = graph_selectors.block_list(category=category, search=search)
    entries = [
        {
            "block": block,
            "categories": sorted(c.value for c in block.categories),
            "cost": presenters.cost_text(block_costs(block)),
            "provider": block.credentials_provider
            and presenters.provider_title(block.credentials_provider),
            "inputs": presenters.pin_rows(block.input_schema()),
            "outputs": presenters.pin_rows(block.output_schema()),
        }
        for block in blocks
    ]
    return render(
        request,
        "dashboard/blocks.html",
        {
            "entries": entries,
            "categories": [(name, count) for name, count in counts.items() if count],
            "category": category,
            "search": search,
            "total": len(everything),
            "nav_section": "blocks",
        },
    )
