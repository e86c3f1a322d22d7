"""Agent graphs: a Graph identity with immutable versions of nodes and links (SPEC §3).

Saving an existing graph creates version max+1 and makes it active; a partial unique constraint
keeps exactly one active version per graph in the database itself.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Graph(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="graphs"
    )
    is_template = models.BooleanField(default=False)
    forked_from_id = models.UUIDField(null=True, blank=True)
    forked_from_version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-updated_at"]),
            models.Index(
                fields=["is_template"], condition=Q(is_template=True), name="graph_template_idx"
            ),
        ]

    def __str__(self) -> str:
        return str(self.id)


class GraphVersion(models.Model):
    graph = models.ForeignKey(Graph, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=False)
    # Overrides EXECUTION_TIME_LIMIT_SECONDS for runs of this version.
    time_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["graph", "version"], name="graph_version_unique"),
            models.UniqueConstraint(
                fields=["graph"], condition=Q(is_active=True), name="graph_one_active_version"
            ),
        ]
        ordering = ["graph_id", "version"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Node(models.Model):
    graph_version = models.ForeignKey(GraphVersion, on_delete=models.CASCADE, related_name="nodes")
    # The node's id within its graph, as the client gave it (or a UUID); "id" in the API.
    key = models.CharField(max_length=100)
    block_id = models.CharField(max_length=64)
    label = models.CharField(max_length=100, blank=True)
    input_default = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    node_type = models.CharField(max_length=16)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["graph_version", "key"], name="node_key_unique")
        ]
        ordering = ["graph_version_id", "position"]

    def __str__(self) -> str:
        return self.key


class Link(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    graph_version = models.ForeignKey(GraphVersion, on_delete=models.CASCADE, related_name="links")
    source_id = models.CharField(max_length=100)  # a Node.key of the same version
    source_name = models.CharField(max_length=200)
    sink_id = models.CharField(max_length=100)
    sink_name = models.CharField(max_length=200)
    is_static = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["graph_version_id", "position"]

    def __str__(self) -> str:
        return f"{self.source_id}.{self.source_name} → {self.sink_id}.{self.sink_name}"


class Preset(models.Model):
    """Saved inputs and credentials for a graph version; a run can start from one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presets"
    )
    graph = models.ForeignKey(Graph, on_delete=models.CASCADE, related_name="presets")
    graph_version = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    credentials_inputs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-updated_at"])]

    def __str__(self) -> str:
        return self.name


class KeyValue(models.Model):
    """The per-user store behind PersistValue/RetrieveValue; scope is a graph id or "" (shared)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=64, blank=True)
    key = models.CharField(max_length=200)
    value = models.JSONField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="key_value_unique")
        ]

    def __str__(self) -> str:
        return self.key
