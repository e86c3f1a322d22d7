from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.graphs.blocks.registry import all_blocks
from apps.graphs.models import Graph, GraphVersion, Link, Node, Preset


class NodeInline(admin.TabularInline):
    model = Node
    fields = readonly_fields = ("key", "block_id", "node_type", "label", "input_default")
    extra = 0
    can_delete = False
    show_change_link = False


class LinkInline(admin.TabularInline):
    model = Link
    fields = readonly_fields = ("source_id", "source_name", "sink_id", "sink_name", "is_static")
    extra = 0
    can_delete = False


class GraphVersionInline(admin.TabularInline):
    model = GraphVersion
    fields = ["version", "name", "is_active", "created_at"]
    readonly_fields = ["version", "name", "created_at"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Graph)
class GraphAdmin(admin.ModelAdmin):
    list_display = ["id", "active_name", "user", "is_template", "updated_at"]
    list_filter = ["is_template"]
    search_fields = ["id", "user__email", "versions__name"]
    list_select_related = ["user"]
    readonly_fields = [
        "id",
        "user",
        "forked_from_id",
        "forked_from_version",
        "created_at",
        "updated_at",
    ]
    fields = ["id", "user", "is_template", *readonly_fields[2:]]
    inlines = [GraphVersionInline]

    @admin.display(description="name")
    def active_name(self, graph: Graph) -> str:
        active = graph.versions.filter(is_active=True).first()
        return active.name if active else "—"

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(GraphVersion)
class GraphVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "graph", "version", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "graph__id", "graph__user__email"]
    list_select_related = ["graph"]
    readonly_fields = ["graph", "version", "name", "description", "is_active", "created_at"]
    inlines = [NodeInline, LinkInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "graph", "graph_version", "updated_at"]
    search_fields = ["name", "user__email"]
    list_select_related = ["user", "graph"]
    readonly_fields = ["user", "graph", "created_at", "updated_at"]


def block_library_view(request: HttpRequest) -> HttpResponse:
    """The block library for staff, read-only: blocks are code, not rows."""
    context = {
        **admin.site.each_context(request),
        "title": "Block library",
        # Plain rows: the template engine would call (instantiate) the schema classes.
        "blocks": [
            {
                "name": block.name,
                "id": block.id,
                "block_type": block.block_type.value,
                "categories": sorted(category.value for category in block.categories),
                "inputs": list(block.input_pins()),
                "outputs": list(block.output_pins()),
                "description": block.description,
            }
            for block in all_blocks()
        ],
    }
    return TemplateResponse(request, "admin/graphs/block_library.html", context)
