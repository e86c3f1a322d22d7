import datetime
from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.api.serializers import GraphMetaSerializer


def grouped_outputs(pairs: Iterable[tuple[str, Any]]) -> dict[str, list[Any]]:
    """(pin, value) pairs in yield order → {pin: [values in order]}."""
    grouped: dict[str, list[Any]] = {}
    for pin, value in pairs:
        grouped.setdefault(pin, []).append(value)
    return grouped


class GraphExecutionSerializer(serializers.ModelSerializer):
    """The execution meta: REST responses and `graph_execution_event` payloads."""

    graph_id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    preset_id = serializers.UUIDField(allow_null=True)
    parent_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = GraphExecution
        fields = [
            "id",
            "graph_id",
            "graph_version",
            "user_id",
            "status",
            "inputs",
            "credentials_inputs",
            "outputs",
            "stats",
            "error_message",
            "preset_id",
            "parent_id",
            "created_at",
            "started_at",
            "ended_at",
        ]


class NodeExecutionSerializer(serializers.ModelSerializer):
    """One node execution (REST detail). Its `node_execution_event` twin is built by
    apps.executions.store with the same fields (a test holds them equal)."""

    graph_exec_id = serializers.UUIDField(source="graph_execution_id")
    node_id = serializers.CharField(source="node.key")
    block_id = serializers.CharField(source="node.block_id")
    output_data = serializers.SerializerMethodField()

    class Meta:
        model = NodeExecution
        fields = [
            "id",
            "graph_exec_id",
            "node_id",
            "block_id",
            "sequence",
            "status",
            "input_data",
            "output_data",
            "error",
            "stats",
            "queued_at",
            "started_at",
            "ended_at",
        ]

    def get_output_data(self, instance: NodeExecution) -> dict[str, list[Any]]:
        return grouped_outputs((row.pin, row.value) for row in instance.outputs.all())


class GraphExecutionDetailSerializer(GraphExecutionSerializer):
    node_executions = NodeExecutionSerializer(many=True)

    class Meta(GraphExecutionSerializer.Meta):
        fields = [*GraphExecutionSerializer.Meta.fields, "node_executions"]


class ExecuteRequestSerializer(serializers.Serializer):
    inputs = serializers.DictField(required=False, default=dict)
    credentials_inputs = serializers.DictField(required=False, default=dict)


class NodeResultSerializer(serializers.Serializer):
    node_id = serializers.CharField()
    node_exec_id = serializers.UUIDField()
    block_id = serializers.CharField()
    status = serializers.CharField()
    input = serializers.DictField()
    output = serializers.DictField()


class ExecutionResultsSerializer(serializers.Serializer):
    execution_id = serializers.UUIDField()
    status = serializers.CharField()
    nodes = NodeResultSerializer(many=True)
    output = serializers.DictField()


class ShareSerializer(serializers.Serializer):
    share_token = serializers.CharField()
    share_url = serializers.CharField()


class SharedExecutionSerializer(serializers.ModelSerializer):
    """What a public link shows: the outputs and status, nothing about the owner or inputs."""

    graph_name = serializers.CharField()

    class Meta:
        model = GraphExecution
        fields = ["id", "graph_name", "status", "outputs", "created_at", "ended_at"]


class GraphWithStatsSerializer(GraphMetaSerializer):
    execution_count = serializers.IntegerField()
    last_execution_at = serializers.DateTimeField(allow_null=True)
    success_rate = serializers.FloatField(
        allow_null=True, help_text="completed / finished runs; null before the first finished run"
    )

    class Meta(GraphMetaSerializer.Meta):
        fields = [
            *GraphMetaSerializer.Meta.fields,
            "execution_count",
            "last_execution_at",
            "success_rate",
        ]


_TIMES = ("queued_at", "started_at", "ended_at")


def _when(value: datetime.datetime | None, zone: datetime.tzinfo | None = None) -> str | None:
    """DRF's DateTimeField output (ISO 8601 in the current time zone, UTC as `Z`) at a fraction
    of its cost: a run of 1,000 nodes has 3,000 of them."""
    if not value:
        return None
    text = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _optional_id(value: Any) -> str | None:
    return str(value) if value else None


def graph_execution_data(execution: GraphExecution) -> dict[str, Any]:
    """GraphExecutionSerializer's output, built without DRF's per-field machinery (a test
    holds the two equal)."""
    return {
        "id": str(execution.id),
        "graph_id": str(execution.graph_id),
        "graph_version": execution.graph_version,
        "user_id": str(execution.user_id),
        "status": execution.status,
        "inputs": execution.inputs,
        "credentials_inputs": execution.credentials_inputs,
        "outputs": execution.outputs,
        "stats": execution.stats,
        "error_message": execution.error_message,
        "preset_id": _optional_id(execution.preset_id),
        "parent_id": _optional_id(execution.parent_id),
        "created_at": _when(execution.created_at),
        "started_at": _when(execution.started_at),
        "ended_at": _when(execution.ended_at),
    }


def graph_execution_list_data(executions: list[GraphExecution]) -> list[dict[str, Any]]:
    return [graph_execution_data(execution) for execution in executions]


RUN_LIST_SCHEMA = inline_serializer(
    name="PaginatedGraphExecutionList",
    fields={
        "data": GraphExecutionSerializer(many=True),
        "total": serializers.IntegerField(
            help_text="exact up to 10,000 runs; beyond, the database's estimate"
        ),
        "total_is_estimate": serializers.BooleanField(),
        "page": serializers.IntegerField(),
        "page_size": serializers.IntegerField(),
        "total_pages": serializers.IntegerField(),
        "next_cursor": serializers.CharField(
            allow_null=True, help_text="pass as `cursor` for the next page; null on the last"
        ),
    },
)


def node_execution_data(row: dict[str, Any], zone: datetime.tzinfo | None = None) -> dict[str, Any]:
    """NodeExecutionSerializer's output from a `selectors.node_execution_rows` row."""
    return {
        "id": str(row["id"]),
        "graph_exec_id": str(row["graph_exec_id"]),
        "node_id": row["node_id"],
        "block_id": row["block_id"],
        "sequence": row["sequence"],
        "status": row["status"],
        "input_data": row["input_data"],
        "output_data": row["output_data"],
        "error": row["error"],
        "stats": row["stats"],
        **{name: _when(row[name], zone) for name in _TIMES},
    }


def graph_execution_detail_data(
    execution: GraphExecution, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """GraphExecutionDetailSerializer's output (a test holds the two equal)."""
    zone = timezone.get_current_timezone()
    return {
        **graph_execution_data(execution),
        "node_executions": [node_execution_data(row, zone) for row in rows],
    }


def execution_results_data(execution: GraphExecution, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """`GET executions/{id}/results` from `selectors.node_execution_rows`."""
    return {
        "execution_id": execution.id,
        "status": execution.status,
        "nodes": [
            {
                "node_id": row["node_id"],
                "node_exec_id": row["id"],
                "block_id": row["block_id"],
                "status": row["status"],
                "input": row["input_data"],
                "output": row["output_data"],
            }
            for row in rows
        ],
        "output": execution.outputs,
    }
