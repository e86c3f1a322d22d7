"""Writes for graphs and presets.

Versions are immutable: saving a graph inserts version max+1 with its nodes and links and makes
it the active one, under a lock on the Graph row so concurrent saves get distinct numbers. The
partial unique index `graph_one_active_version` keeps exactly one active version in the database.
"""

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Max

from apps.common.exceptions import GraphValidationFailed, NotFound
from apps.graphs import selectors
from apps.graphs.blocks.base import Block
from apps.graphs.blocks.registry import get_block
from apps.graphs.compile import (
    CREDENTIALS_METADATA_KEY,
    check_run_inputs,
    graph_spec_from_version,
    graph_spec_with_fresh_ids,
    graph_spec_without_credentials,
)
from apps.graphs.models import Graph, GraphVersion, Link, Node, Preset
from apps.graphs.runtime import node_credentials_check
from apps.graphs.signals import graph_deleting, graph_version_activated
from apps.graphs.spec import GraphSpec
from apps.graphs.validation import graph_errors_on_save
from apps.users.models import User


def _check_spec(spec: GraphSpec, *, user: User) -> None:
    node_errors = graph_errors_on_save(spec)
    for node in spec.nodes:
        chosen = node.metadata.get(CREDENTIALS_METADATA_KEY)
        block = get_block(node.block_id)
        if not chosen or block is None:
            continue
        reason = node_credentials_check(user_id=user.pk, block=block, credential_id=str(chosen))
        if reason:
            node_errors.setdefault(node.key, {})[CREDENTIALS_METADATA_KEY] = reason
    if node_errors:
        raise GraphValidationFailed(node_errors)


def _insert_version(
    *,
    graph: Graph,
    name: str,
    description: str,
    spec: GraphSpec,
    time_limit_seconds: int | None = None,
) -> GraphVersion:
    """Add version max+1 as the active one. The caller holds the Graph row lock."""
    latest = graph.versions.aggregate(latest=Max("version"))["latest"] or 0
    graph.versions.filter(is_active=True).update(is_active=False)
    version = GraphVersion.objects.create(
        graph=graph,
        version=latest + 1,
        name=name,
        description=description,
        is_active=True,
        time_limit_seconds=time_limit_seconds,
    )
    blocks: dict[str, Block] = {}
    for node in spec.nodes:
        block = get_block(node.block_id)
        assert block is not None, f"unknown block {node.block_id} passed graph_errors_on_save"
        blocks[node.key] = block
    Node.objects.bulk_create(
        Node(
            graph_version=version,
            key=node.key,
            block_id=blocks[node.key].id,  # an alias is stored as the canonical id
            label=node.label,
            input_default=dict(node.input_default),
            metadata=dict(node.metadata),
            node_type=blocks[node.key].block_type.value,
            position=position,
        )
        for position, node in enumerate(spec.nodes)
    )
    Link.objects.bulk_create(
        Link(
            graph_version=version,
            source_id=link.source_id,
            source_name=link.source_name,
            sink_id=link.sink_id,
            sink_name=link.sink_name,
            # Links leaving a static block (Input, Store Value) are static whatever was sent.
            is_static=link.is_static or blocks[link.source_id].static_output,
            position=position,
        )
        for position, link in enumerate(spec.links)
    )
    graph.save(update_fields=["updated_at"])
    _announce_active(graph, version.version)
    return version


def _announce_active(graph: Graph, version: int) -> None:
    transaction.on_commit(
        lambda: graph_version_activated.send(
            sender=None, graph_id=graph.pk, version=version, user_id=graph.user_id
        )
    )


@transaction.atomic
def graph_create(
    *,
    user: User,
    name: str,
    description: str = "",
    spec: GraphSpec,
    is_template: bool = False,
    forked_from: GraphVersion | None = None,
    time_limit_seconds: int | None = None,
) -> GraphVersion:
    if forked_from is not None and forked_from.graph.user_id != user.pk:
        spec = graph_spec_without_credentials(spec)
    _check_spec(spec, user=user)
    return _create(
        user=user,
        name=name,
        description=description,
        spec=spec,
        is_template=is_template,
        forked_from=forked_from,
        time_limit_seconds=time_limit_seconds,
    )


def _create(
    *,
    user: User,
    name: str,
    description: str,
    spec: GraphSpec,
    is_template: bool = False,
    forked_from: GraphVersion | None = None,
    time_limit_seconds: int | None = None,
) -> GraphVersion:
    """A new graph with `spec` as its version 1; the caller has checked the spec."""
    graph = Graph.objects.create(
        user=user,
        is_template=is_template,
        forked_from_id=forked_from.graph_id if forked_from else None,
        forked_from_version=forked_from.version if forked_from else None,
    )
    return _insert_version(
        graph=graph,
        name=name,
        description=description,
        spec=spec,
        time_limit_seconds=time_limit_seconds,
    )


@transaction.atomic
def graph_update(
    *,
    user: User,
    graph_id: uuid.UUID | str,
    name: str,
    description: str = "",
    spec: GraphSpec,
    time_limit_seconds: int | None = None,
) -> GraphVersion:
    """Save a new version (max+1) of a graph the user owns and make it active."""
    _check_spec(spec, user=user)
    graph = selectors.graph_get(user=user, graph_id=graph_id, for_update=True)
    return _insert_version(
        graph=graph,
        name=name,
        description=description,
        spec=spec,
        time_limit_seconds=time_limit_seconds,
    )


@transaction.atomic
def graph_set_active_version(
    *, user: User, graph_id: uuid.UUID | str, version: int
) -> GraphVersion:
    graph = selectors.graph_get(user=user, graph_id=graph_id, for_update=True)
    target = graph.versions.filter(version=version).first()
    if target is None:
        raise NotFound(f"Graph version {version} not found.")
    if not target.is_active:
        graph.versions.filter(is_active=True).update(is_active=False)
        target.is_active = True
        target.save(update_fields=["is_active"])
        graph.save(update_fields=["updated_at"])
        _announce_active(graph, target.version)
    return target


@transaction.atomic
def graph_delete(*, user: User, graph_id: uuid.UUID | str) -> None:
    """Delete every version of a graph the user owns (nodes, links, presets and runs go with
    it). The layers above first make sure nothing they keep under it changes meanwhile
    (`graph_deleting`: executions lock its runs, which a running run's next step then waits
    for)."""
    graph = selectors.graph_get(user=user, graph_id=graph_id, for_update=True)
    graph_deleting.send(sender=None, graph_id=graph.pk)
    graph.delete()


def graph_export(*, version: GraphVersion) -> dict[str, Any]:
    """The version as an importable document; secret pins (API keys…) are left out, and so is
    each node's chosen credential (an importer picks their own)."""
    nodes = []
    for node in version.nodes.all():
        block = get_block(node.block_id)
        secret = block.secret_inputs() if block else set()
        nodes.append(
            {
                "id": node.key,
                "block_id": node.block_id,
                "label": node.label,
                "input_default": {k: v for k, v in node.input_default.items() if k not in secret},
                "metadata": {
                    k: v for k, v in node.metadata.items() if k != CREDENTIALS_METADATA_KEY
                },
            }
        )
    links = [
        {
            "source_id": link.source_id,
            "source_name": link.source_name,
            "sink_id": link.sink_id,
            "sink_name": link.sink_name,
            "is_static": link.is_static,
        }
        for link in version.links.all()
    ]
    return {
        "name": version.name,
        "description": version.description,
        "version": version.version,
        "time_limit_seconds": version.time_limit_seconds,
        "nodes": nodes,
        "links": links,
    }


@transaction.atomic
def graph_import(
    *,
    user: User,
    name: str,
    description: str,
    spec: GraphSpec,
    time_limit_seconds: int | None = None,
) -> GraphVersion:
    """A new graph from an exported document (`POST /api/graphs/import` and the dashboard's
    import). It is checked as the document has it, so every error names the document's own
    node ids; the nodes get new ids once it is valid."""
    _check_spec(spec, user=user)
    return _create(
        user=user,
        name=name,
        description=description,
        spec=graph_spec_with_fresh_ids(spec),
        time_limit_seconds=time_limit_seconds,
    )


def graph_fork(
    *, user: User, graph_id: uuid.UUID | str, version: int | str | None = None
) -> GraphVersion:
    """Copy a version the user can see (their own or a template) into a new graph of theirs."""
    source = selectors.graph_version_get(user=user, graph_id=graph_id, version=version)
    return graph_copy(user=user, source=source)


def graph_copy(*, user: User, source: GraphVersion) -> GraphVersion:
    """Copy `source` into a new graph of `user`'s: new node ids, `forked_from` set.

    No access check: the caller has established that `user` may read `source` (graph_fork for
    graphs they can see, the store for agents in their library).
    """
    spec = graph_spec_with_fresh_ids(graph_spec_from_version(source))
    return graph_create(
        user=user,
        name=source.name,
        description=source.description,
        spec=spec,
        forked_from=source,
        time_limit_seconds=source.time_limit_seconds,
    )


@transaction.atomic
def preset_create(
    *,
    user: User,
    graph_id: uuid.UUID | str,
    graph_version: int,
    name: str,
    description: str = "",
    inputs: dict[str, Any],
    credentials_inputs: dict[str, Any],
) -> Preset:
    version = selectors.graph_version_get(user=user, graph_id=graph_id, version=graph_version)
    check_run_inputs(inputs)
    check_run_inputs(credentials_inputs, what="credentials_inputs")
    return Preset.objects.create(
        user=user,
        graph=version.graph,
        graph_version=version.version,
        name=name,
        description=description,
        inputs=inputs,
        credentials_inputs=credentials_inputs,
    )


@transaction.atomic
def preset_update(*, user: User, preset_id: uuid.UUID | str, **fields: Any) -> Preset:
    preset = selectors.preset_get(user=user, preset_id=preset_id)
    if "graph_version" in fields:
        selectors.graph_version_get(
            user=user, graph_id=preset.graph_id, version=fields["graph_version"]
        )
    for name in ("inputs", "credentials_inputs"):
        if name in fields:
            check_run_inputs(fields[name], what=name)
    for name, value in fields.items():
        setattr(preset, name, value)
    preset.save()
    return preset


def preset_delete(*, user: User, preset_id: uuid.UUID | str) -> None:
    selectors.preset_get(user=user, preset_id=preset_id).delete()
