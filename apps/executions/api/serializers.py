from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from apps.executions import payloads
from apps.executions.models import GraphExecution, NodeExecution
from apps.executions.payloads import grouped_outputs


class GraphExecutionSerializer(serializers.ModelSerializer):
    """The execution meta of REST responses. The fields describe the schema; the body is
    `payloads.graph_execution_rest`, the one definition shared with `graph_execution_event`."""

    graph_id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    preset_id = serializers.UUIDField(allow_null=True)
    parent_id = serializers.UUIDField(allow_null=True)
    retry_of = serializers.UUIDField(
        allow_null=True, help_text="The finished run this one retries (SPEC §17)."
    )

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
            "has_errors",
            "max_credits",
            "preset_id",
            "parent_id",
            "retry_of",
            "created_at",
            "started_at",
            "ended_at",
        ]
        extra_kwargs = {
            "has_errors": {
                "help_text": "Some node failed. With status `completed`: completed with errors; "
                "`error_message` is then the first failed node's error."
            }
        }

    def to_representation(self, instance: GraphExecution) -> dict[str, Any]:
        return payloads.graph_execution_rest(instance)


class NodeExecutionSerializer(serializers.ModelSerializer):
    """One node execution (REST detail). The fields describe the schema; the body is
    `payloads.node_execution_rest`, the one definition shared with `node_execution_event`."""

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

    def to_representation(self, instance: NodeExecution) -> dict[str, Any]:
        return payloads.node_execution_rest(instance)


class GraphExecutionDetailSerializer(GraphExecutionSerializer):
    node_executions = NodeExecutionSerializer(many=True)

    class Meta(GraphExecutionSerializer.Meta):
        fields = [*GraphExecutionSerializer.Meta.fields, "node_executions"]

    def to_representation(self, instance: GraphExecution) -> dict[str, Any]:
        rows = instance.node_executions.all()
        return {
            **payloads.graph_execution_rest(instance),
            "node_executions": [payloads.node_execution_rest(row) for row in rows],
        }


class ExecuteRequestSerializer(serializers.Serializer):
    inputs = serializers.DictField(required=False, default=dict)
    credentials_inputs = serializers.DictField(required=False, default=dict)
    max_credits = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=2**31 - 1,
        help_text="The most credits this run may use (SPEC §17 budget cap): a node whose "
        "charge would pass it is not started and the run fails with BUDGET_EXCEEDED",
    )


class RetryRequestSerializer(serializers.Serializer):
    max_credits = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=2**31 - 1,
        help_text="The retry's budget cap (SPEC §17); the retried run's when left out",
    )


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


def graph_execution_detail_data(
    execution: GraphExecution, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """GraphExecutionDetailSerializer's body from `selectors.node_execution_rows` (two queries
    and no model instances for the node executions)."""
    return {
        **payloads.graph_execution_rest(execution),
        "node_executions": [payloads.node_execution_payload(**row) for row in rows],
    }


def execution_results_data(execution: GraphExecution, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """`GET executions/{id}/results` (seed 02 §2.3.2) from `selectors.node_execution_rows`: per
    node its input and output."""
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
