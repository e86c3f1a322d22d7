"""Runs for staff (SPEC §1): searchable lists of graph and node executions, a read-only detail
with its node executions, and a stop action. Every staff member may look and stop; nobody edits
a run here (its history is the system of record)."""

import logging

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.executions import services
from apps.executions.models import ExecutionStatus, GraphExecution, NodeExecution

logger = logging.getLogger(__name__)

_LIVE = [ExecutionStatus.INCOMPLETE, ExecutionStatus.QUEUED, ExecutionStatus.RUNNING]


class _StaffReadOnly(admin.ModelAdmin):
    """Open to every active staff member (no per-model grants needed), and never editable."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _cost(stats: dict) -> int:
    return int((stats or {}).get("cost", 0) or 0)


class NodeExecutionInline(admin.TabularInline):
    model = NodeExecution
    fields = ("sequence", "node_key", "block", "status", "cost", "started_at", "ended_at", "error")
    readonly_fields = fields
    ordering = ["sequence"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_active and request.user.is_staff

    def get_queryset(self, request: HttpRequest) -> QuerySet[NodeExecution]:
        return super().get_queryset(request).select_related("node")

    @admin.display(description="node")
    def node_key(self, execution: NodeExecution) -> str:
        return execution.node.key

    @admin.display(description="block")
    def block(self, execution: NodeExecution) -> str:
        return execution.node.block_id

    @admin.display(description="cost")
    def cost(self, execution: NodeExecution) -> int:
        return _cost(execution.stats)


@admin.register(GraphExecution)
class GraphExecutionAdmin(_StaffReadOnly):
    list_display = [
        "id",
        "status",
        "user",
        "graph",
        "graph_version",
        "created_at",
        "started_at",
        "ended_at",
        "cost",
    ]
    list_filter = ["status", "is_deleted", "created_at"]
    search_fields = ["id", "user__email", "graph__id", "graph__versions__name", "error_message"]
    list_select_related = ["user", "graph"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    show_full_result_count = False  # a count over every run on each page costs more than a page
    fields = (
        "id",
        "status",
        "user",
        "graph",
        "graph_version",
        "preset",
        "parent",
        "inputs",
        "outputs",
        "stats",
        "error_message",
        "attempts",
        "lease_owner",
        "lease_expires_at",
        "created_at",
        "enqueued_at",
        "started_at",
        "ended_at",
        "is_deleted",
    )
    readonly_fields = fields
    inlines = [NodeExecutionInline]
    actions = ["stop_runs"]

    def get_search_results(self, request, queryset, search_term):
        # A name matches through the graph's versions: one run per match, not one per version.
        results, _ = super().get_search_results(request, queryset, search_term)
        return results, True

    @admin.display(description="cost")
    def cost(self, execution: GraphExecution) -> int:
        return _cost(execution.stats)

    @admin.action(description="Stop the selected runs")
    def stop_runs(self, request: HttpRequest, queryset: QuerySet[GraphExecution]) -> None:
        stopped = 0
        for execution in queryset.filter(status__in=_LIVE).select_related("user"):
            # Acting through the owner's view of the run: the same path as their own stop.
            services.graph_execution_stop(user=execution.user, graph_exec_id=execution.pk)
            logger.info("staff %s stopped run %s", request.user.pk, execution.pk)
            stopped += 1
        self.message_user(
            request,
            f"Asked {stopped} run(s) to stop; finished runs were left as they were.",
            messages.SUCCESS,
        )


@admin.register(NodeExecution)
class NodeExecutionAdmin(_StaffReadOnly):
    list_display = [
        "id",
        "status",
        "user",
        "graph_execution",
        "node_key",
        "created",
        "started_at",
        "ended_at",
        "cost",
    ]
    list_filter = ["status"]
    search_fields = ["id", "graph_execution__id", "graph_execution__user__email", "node__key"]
    list_select_related = ["graph_execution__user", "node"]
    ordering = ["-queued_at"]
    show_full_result_count = False
    fields = (
        "id",
        "graph_execution",
        "node",
        "sequence",
        "status",
        "input_data",
        "stats",
        "error",
        "queued_at",
        "started_at",
        "ended_at",
    )
    readonly_fields = fields

    @admin.display(description="user")
    def user(self, execution: NodeExecution) -> str:
        return str(execution.graph_execution.user)

    @admin.display(description="node")
    def node_key(self, execution: NodeExecution) -> str:
        return execution.node.key

    @admin.display(description="queued", ordering="queued_at")
    def created(self, execution: NodeExecution):
        return execution.queued_at

    @admin.display(description="cost")
    def cost(self, execution: NodeExecution) -> int:
        return _cost(execution.stats)
