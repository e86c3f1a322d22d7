from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.graphs.analysis import graph_cost_estimate, graph_input_schema, graph_output_names
from apps.graphs.blocks.base import Block
from apps.graphs.blocks.registry import get_block
from apps.graphs.compile import graph_spec_from_version
from apps.graphs.costs import block_costs
from apps.graphs.models import GraphVersion, Preset
from apps.graphs.shapes import LinkInSerializer, NodeInSerializer
from apps.graphs.spec import GraphSpec


class NodeOutSerializer(serializers.Serializer):
    id = serializers.CharField(source="key")
    block_id = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, as in NodeInSerializer
    input_default = serializers.DictField()
    metadata = serializers.DictField()
    node_type = serializers.CharField()


class LinkOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    source_id = serializers.CharField()
    source_name = serializers.CharField()
    sink_id = serializers.CharField()
    sink_name = serializers.CharField()
    is_static = serializers.BooleanField()


class GraphMetaSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="graph_id")
    user_id = serializers.UUIDField(source="graph.user_id")
    is_template = serializers.BooleanField(source="graph.is_template")
    forked_from_id = serializers.UUIDField(source="graph.forked_from_id", allow_null=True)
    forked_from_version = serializers.IntegerField(
        source="graph.forked_from_version", allow_null=True
    )
    updated_at = serializers.DateTimeField(source="graph.updated_at")
    node_count = serializers.SerializerMethodField()

    class Meta:
        model = GraphVersion
        fields = [
            "id",
            "version",
            "is_active",
            "is_template",
            "name",
            "description",
            "user_id",
            "forked_from_id",
            "forked_from_version",
            "time_limit_seconds",
            "node_count",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(OpenApiTypes.INT)
    def get_node_count(self, version: GraphVersion) -> int:
        # Lists annotate the count (one query for the page); a single version counts its own.
        counted = getattr(version, "node_count", None)
        return counted if counted is not None else version.nodes.count()


# A row of `GET /api/graphs`, with the user's runs of it (selectors.graph_list_with_stats).
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


class GraphSerializer(GraphMetaSerializer):
    nodes = NodeOutSerializer(many=True)
    links = LinkOutSerializer(many=True)
    input_schema = serializers.SerializerMethodField()
    output_names = serializers.SerializerMethodField()
    cost_estimate = serializers.SerializerMethodField(
        help_text="Credits one run costs at least (as GET graphs/{id}/cost-estimate), shown "
        "before a run"
    )

    class Meta(GraphMetaSerializer.Meta):
        fields = [
            *[field for field in GraphMetaSerializer.Meta.fields if field != "node_count"],
            "nodes",
            "links",
            "input_schema",
            "output_names",
            "cost_estimate",
        ]

    def to_representation(self, version: GraphVersion) -> dict[str, Any]:
        body = super().to_representation(version)
        request = self.context.get("request")
        if request is None or request.user.pk != version.graph.user_id:
            # A template shown to another user never carries its author's secret pins.
            for node in body["nodes"]:
                block = get_block(node["block_id"])
                for pin in block.secret_inputs() if block else ():
                    node["input_default"].pop(pin, None)
        return body

    def _spec(self, version: GraphVersion) -> GraphSpec:
        # The stubs type `context` as a read-only Mapping; DRF hands every field the same dict.
        specs = self.context.setdefault("graph_specs", {})  # type: ignore[attr-defined]
        if version.pk not in specs:
            specs[version.pk] = graph_spec_from_version(version)
        return specs[version.pk]

    def get_input_schema(self, version: GraphVersion) -> dict[str, Any]:
        return graph_input_schema(self._spec(version))

    def get_output_names(self, version: GraphVersion) -> list[str]:
        return graph_output_names(self._spec(version))

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_cost_estimate(self, version: GraphVersion) -> dict[str, Any]:
        return graph_cost_estimate(self._spec(version))


class ActiveVersionSerializer(serializers.Serializer):
    active_graph_version = serializers.IntegerField(min_value=1)


class GraphExportSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    version = serializers.IntegerField()
    time_limit_seconds = serializers.IntegerField(allow_null=True)
    nodes = NodeInSerializer(many=True)
    links = LinkInSerializer(many=True)


class GraphRunCheckSerializer(serializers.Serializer):
    node_errors = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="{node_id: {field: message}}; errors of no single node under `graph`. "
        "Empty when the version can run.",
    )


class GraphAnalysisSerializer(serializers.Serializer):
    node_count = serializers.IntegerField()
    link_count = serializers.IntegerField()
    max_depth = serializers.IntegerField()
    parallel_branches = serializers.IntegerField()
    execution_batches = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField())
    )
    bottlenecks = serializers.ListField(child=serializers.CharField())
    suggestions = serializers.ListField(child=serializers.CharField())


class NodeCostSerializer(serializers.Serializer):
    credits = serializers.IntegerField()
    unit = serializers.CharField()


class GraphCostEstimateSerializer(serializers.Serializer):
    total_credits = serializers.IntegerField()
    node_costs = serializers.DictField(child=NodeCostSerializer())


class BlockCostSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    unit = serializers.CharField()
    filter = serializers.DictField()


class RetryPolicySerializer(serializers.Serializer):
    max_attempts = serializers.IntegerField()
    retriable = serializers.ListField(child=serializers.CharField())


class BlockSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    categories = serializers.SerializerMethodField()
    block_type = serializers.CharField()
    input_schema = serializers.SerializerMethodField()
    output_schema = serializers.SerializerMethodField()
    costs = serializers.SerializerMethodField()
    static_output = serializers.BooleanField()
    timeout_seconds = serializers.FloatField()
    credentials_provider = serializers.CharField(
        allow_null=True, help_text="The provider whose credentials a node of this block uses."
    )
    credential_types = serializers.SerializerMethodField()
    retry_policy = serializers.SerializerMethodField(
        help_text="Failure kinds another attempt may cure (SPEC §17); null: none."
    )

    def get_credential_types(self, block: Block) -> list[str]:
        return list(block.credential_types) if block.credentials_provider else []

    @extend_schema_field(RetryPolicySerializer(allow_null=True))
    def get_retry_policy(self, block: Block) -> dict[str, Any] | None:
        policy = block.retry_policy
        if policy is None:
            return None
        return {"max_attempts": policy.max_attempts, "retriable": sorted(policy.retriable)}

    def get_categories(self, block: Block) -> list[str]:
        return sorted(category.value for category in block.categories)

    def get_input_schema(self, block: Block) -> dict[str, Any]:
        return block.input_schema()

    def get_output_schema(self, block: Block) -> dict[str, Any]:
        return block.output_schema()

    def get_costs(self, block: Block) -> BlockCostSerializer(many=True):  # type: ignore[valid-type]
        return [
            {"amount": cost.amount, "unit": cost.unit.value, "filter": dict(cost.filter)}
            for cost in block_costs(block)
        ]


class BlockOutputsSerializer(serializers.Serializer):
    """{pin: [values in the order the block yielded them]}"""

    def to_representation(self, instance: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return instance


class PresetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Preset
        fields = [
            "id",
            "graph_id",
            "graph_version",
            "name",
            "description",
            "inputs",
            "credentials_inputs",
            "created_at",
            "updated_at",
        ]


class PresetCreateSerializer(serializers.Serializer):
    graph_id = serializers.UUIDField()
    graph_version = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    inputs = serializers.DictField(required=False, default=dict)
    credentials_inputs = serializers.DictField(required=False, default=dict)


class PresetUpdateSerializer(serializers.Serializer):
    graph_version = serializers.IntegerField(min_value=1, required=False)
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    inputs = serializers.DictField(required=False)
    credentials_inputs = serializers.DictField(required=False)
