"""A graph as clients send it: the request bodies of the graphs API, and the drafts the chat's
copilot checks with the same rules. DRF serializers used as input shapes, below the API so that
every caller that takes a graph from outside checks it one way."""

from rest_framework import serializers

from apps.graphs.compile import MAX_TIME_LIMIT_SECONDS

MAX_NODES = 1000
MAX_LINKS = 5000


class NodeInSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100, required=False)
    block_id = serializers.CharField(max_length=64)
    # A declared field named like Field.label: the stubs see the attribute, DRF the field.
    label = serializers.CharField(max_length=100, required=False, allow_blank=True)  # type: ignore[assignment]
    input_default = serializers.DictField(required=False)
    metadata = serializers.DictField(required=False)


class LinkInSerializer(serializers.Serializer):
    source_id = serializers.CharField(max_length=100)
    source_name = serializers.CharField(max_length=200)
    sink_id = serializers.CharField(max_length=100)
    sink_name = serializers.CharField(max_length=200)
    is_static = serializers.BooleanField(required=False, default=False)


class GraphInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    # many=True hands max_length to the ListSerializer; the stubs' __init__ does not list it.
    nodes = NodeInSerializer(many=True, max_length=MAX_NODES)  # type: ignore[call-arg]
    links = LinkInSerializer(many=True, max_length=MAX_LINKS, required=False, default=list)  # type: ignore[call-arg]
    is_template = serializers.BooleanField(
        required=False, default=False, help_text="Staff only: visible to every user."
    )
    time_limit_seconds = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TIME_LIMIT_SECONDS,
        required=False,
        allow_null=True,
        default=None,
        help_text="Runs longer than this end `timeout` (default: the platform's limit).",
    )
