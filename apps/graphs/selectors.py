"""Reads of graphs and presets. A graph is visible to its owner, and to everyone when it is a
template; anything else is NotFound (never a 403 that confirms it exists). A version may also be
granted to a user by an app above (a store agent in their library): see graph_version_granted.

`runnable_version` is what executions asks of graphs to start a run."""

import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from apps.common.exceptions import GraphValidationFailed, NotFound, PermissionDenied
from apps.graphs.analysis import graph_input_schema
from apps.graphs.blocks.base import Block, BlockType
from apps.graphs.blocks.registry import all_blocks, get_block
from apps.graphs.compile import (
    CREDENTIALS_METADATA_KEY,
    RunnableGraph,
    check_run_inputs,
    graph_spec_from_version,
    runnable_graph,
)
from apps.graphs.models import Graph, GraphVersion, Link, Node, Preset
from apps.graphs.runtime import (
    credentials_selection_check,
    node_credentials_check,
    selected_credential,
)
from apps.graphs.validation import graph_errors_for_run
from apps.users.models import User


def _parse_uuid(value: uuid.UUID | str, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"{what} not found.") from None


def _visible(user: User) -> Q:
    return Q(user=user) | Q(is_template=True)


def graph_get(*, user: User, graph_id: uuid.UUID | str, for_update: bool = False) -> Graph:
    """The graph `user` may see; with for_update, only one they own, row-locked."""
    graph_id = _parse_uuid(graph_id, "Graph")
    graphs = Graph.objects.filter(pk=graph_id)
    if for_update:
        graph = graphs.select_for_update().filter(_visible(user)).first()
        if graph is not None and graph.user_id != user.pk:
            raise PermissionDenied("This graph is a template; fork it to change it.")
    else:
        graph = graphs.filter(_visible(user)).first()
    if graph is None:
        raise NotFound("Graph not found.")
    return graph


def _with_structure(versions: QuerySet[GraphVersion]) -> QuerySet[GraphVersion]:
    return versions.select_related("graph").prefetch_related(
        Prefetch("nodes", queryset=Node.objects.order_by("position")),
        Prefetch("links", queryset=Link.objects.order_by("position")),
    )


LATEST = "latest"


def graph_version_get(
    *, user: User, graph_id: uuid.UUID | str, version: int | str | None = None
) -> GraphVersion:
    """A version with its nodes and links: the active one unless `version` is a number or
    LATEST (the highest number, active or not)."""
    graph = graph_get(user=user, graph_id=graph_id)
    versions = _with_structure(GraphVersion.objects.filter(graph=graph))
    if version == LATEST:
        found = versions.order_by("-version").first()
    elif version:
        found = versions.filter(version=version).first()
    else:
        found = versions.filter(is_active=True).first()
    if found is None:
        raise NotFound(f"Graph version {version} not found." if version else "Graph not found.")
    return found


# Plain SQL: this runs at every run start, and building the ORM's query cost more than running
# it. Only table names are interpolated; every value is a parameter.
_RESOLVE = (
    f"SELECT v.graph_id, v.version FROM {GraphVersion._meta.db_table} v"
    f" JOIN {Graph._meta.db_table} g ON g.id = v.graph_id"
    " WHERE v.graph_id = %s AND (g.user_id = %s OR g.is_template)"
)


def graph_version_resolve(
    *, user: User, graph_id: uuid.UUID | str, version: int | None = None
) -> tuple[uuid.UUID, int]:
    """(graph id, version number) of a version the user may see, in one query: the active
    version unless `version` is given. For callers that have the version's content cached."""
    prep = Graph._meta.pk.get_db_prep_value
    params = [prep(_parse_uuid(graph_id, "Graph"), connection), prep(user.pk, connection)]
    sql = _RESOLVE + (" AND v.version = %s" if version else " AND v.is_active")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, version] if version else params)
        found = cursor.fetchone()
    if found is None:
        raise NotFound(f"Graph version {version} not found." if version else "Graph not found.")
    return _parse_uuid(found[0], "Graph"), found[1]


def graph_version_list(*, user: User, graph_id: uuid.UUID | str) -> QuerySet[GraphVersion]:
    graph = graph_get(user=user, graph_id=graph_id)
    return _annotated(GraphVersion.objects.filter(graph=graph)).order_by("-version")


def _annotated(versions: QuerySet[GraphVersion]) -> QuerySet[GraphVersion]:
    node_count = (
        Node.objects.filter(graph_version=OuterRef("pk"))
        .order_by()
        .values("graph_version")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return versions.select_related("graph").annotate(node_count=Subquery(node_count))


def graph_list(*, user: User, templates: bool = False) -> QuerySet[GraphVersion]:
    """Active versions of the user's graphs (or of the templates), newest change first.

    One query whatever the number of graphs: node counts come from a correlated subquery.
    """
    graphs = Q(graph__is_template=True) if templates else Q(graph__user=user)
    versions = GraphVersion.objects.filter(graphs, is_active=True)
    return _annotated(versions).order_by("-graph__updated_at", "-graph_id")


# The runs of graphs are recorded by apps.executions, a layer above: it installs the function that
# adds each graph's run statistics to graph_list (execution_count, last_execution_at,
# success_rate) when it starts (its AppConfig.ready).
RunStatistics = Callable[..., Iterable[GraphVersion]]  # paged lazily: len() and slices
_run_statistics: list[RunStatistics] = []


def run_statistics_install(statistics: RunStatistics) -> None:
    """`statistics(user=…, templates=…)` answers graph_list with the three statistics added."""
    _run_statistics[:] = [statistics]


def graph_list_with_stats(*, user: User, templates: bool = False) -> Iterable[GraphVersion]:
    """graph_list with the user's run count, last run and success rate per graph (one query)."""
    if not _run_statistics:
        raise ImproperlyConfigured("No app records runs: apps.executions is not installed.")
    return _run_statistics[0](user=user, templates=templates)


# Who may read a version beyond its owner (and everyone, for a template): each app above that
# grants access registers a condition on GraphVersion rows for a user (its AppConfig.ready),
# e.g. the store's "this exact version is an agent in your library".
VersionGrant = Callable[[User], Q | None]
_version_grants: list[VersionGrant] = []


def version_grant_register(grant: VersionGrant) -> None:
    if grant not in _version_grants:
        _version_grants.append(grant)


def graph_versions_granted(*, user: User) -> QuerySet[GraphVersion]:
    """Every version `user` may read: of their own graphs, of templates, or granted to them."""
    readable = Q(graph__user=user) | Q(graph__is_template=True)
    for grant in _version_grants:
        condition = grant(user)
        if condition is not None:
            readable |= condition
    return GraphVersion.objects.filter(readable)


def graph_version_granted(
    *, user: User, graph_id: uuid.UUID | str, version: int | None = None
) -> GraphVersion:
    """A version `user` may read (graph_versions_granted), with its graph, nodes and links: the
    active one unless `version` is given. Anything else is NotFound."""
    versions = graph_versions_granted(user=user).filter(graph_id=_parse_uuid(graph_id, "Graph"))
    versions = versions.filter(version=version) if version else versions.filter(is_active=True)
    found = _with_structure(versions).first()
    if found is None:
        raise NotFound("Graph version not found.")
    return found


@lru_cache(maxsize=512)
def compiled_version(graph_id: uuid.UUID, version: int) -> RunnableGraph:
    """A version compiled for running, whoever may run it: for a caller that holds a run already
    allowed (the worker). Versions never change once saved, so each process compiles one once."""
    row = _with_structure(GraphVersion.objects.filter(graph_id=graph_id, version=version)).get()
    return runnable_graph(row, tool_schemas=_tool_schemas(row))


def _tool_schemas(row: GraphVersion) -> dict[str, dict[str, Any]]:
    """What each Agent Executor node that names its graph shows a model that calls it as a tool
    (engine/tools.py): its block's schema with `inputs` described by that graph's run inputs,
    when the graph is the owner's or a template, so the model knows what to pass."""
    schemas = {}
    for node in row.nodes.all():
        graph_id = node.input_default.get("graph_id")
        if node.node_type != BlockType.AGENT or not graph_id:
            continue
        versions = GraphVersion.objects.filter(graph_id=graph_id).filter(
            Q(graph__user_id=row.graph.user_id) | Q(graph__is_template=True)
        )
        wanted = node.input_default.get("graph_version")
        try:
            child = _with_structure(
                versions.filter(version=wanted) if wanted else versions.filter(is_active=True)
            ).first()
        except (ValueError, ValidationError):
            child = None  # a malformed id: the run says so when the tool is called
        if child is None:
            continue
        block = get_block(node.block_id)
        assert block is not None, f"saved node {node.key} has unknown block {node.block_id}"
        schema = block.input_schema()
        inputs = graph_input_schema(graph_spec_from_version(child))
        inputs["description"] = f"Inputs of the agent {child.name!r}. {child.description}".strip()
        schemas[node.key] = {**schema, "properties": {**schema["properties"], "inputs": inputs}}
    return schemas


def runnable_version(
    *,
    user: User,
    graph_id: uuid.UUID | str,
    version: int | None = None,
    inputs: Mapping[str, Any] | None = None,
    credentials_inputs: Mapping[str, Any] | None = None,
    access_checked: bool = False,
) -> RunnableGraph:
    """The one entry point of a run start: the version `user` may run (the active one unless
    `version` is given), compiled, and checked against the run's `inputs` and
    `credentials_inputs` (their shapes and credentials: 400; the run-time graph rules of
    SPEC §5 and each node's chosen credential: 400 with `node_errors`).

    `user` may run their own graphs and templates. With `access_checked` the caller vouches that
    `user` may run exactly `version` (the store for an agent in their library, a run for a
    sub-agent that a graph they may run names itself), and only its existence is checked: a
    version granted for reading is not thereby runnable through the graph's own endpoints.
    """
    inputs = {} if inputs is None else inputs
    credentials_inputs = {} if credentials_inputs is None else credentials_inputs
    check_run_inputs(inputs)
    check_run_inputs(credentials_inputs, what="credentials_inputs")
    credentials_selection_check(user_id=user.pk, selection=credentials_inputs)
    if access_checked:
        if version is None:
            raise ValueError("access_checked needs the exact graph version")
        graph_id = _parse_uuid(graph_id, "Graph")
    else:
        graph_id, version = graph_version_resolve(user=user, graph_id=graph_id, version=version)
    try:
        runnable = compiled_version(graph_id, version)
    except GraphVersion.DoesNotExist:
        raise NotFound(f"Graph version {version} not found.") from None
    node_errors = graph_errors_for_run(runnable.spec, inputs)
    for node in runnable.nodes:
        provider = node.block.credentials_provider
        chosen = selected_credential(credentials_inputs, node.id, provider or "")
        if chosen and provider:
            reason = node_credentials_check(user_id=user.pk, block=node.block, credential_id=chosen)
            if reason:
                node_errors.setdefault(node.id, {})[CREDENTIALS_METADATA_KEY] = reason
    if node_errors:
        raise GraphValidationFailed(node_errors)
    return runnable


def preset_list(*, user: User, graph_id: uuid.UUID | str | None = None) -> QuerySet[Preset]:
    presets = Preset.objects.filter(user=user)
    if graph_id is not None:
        presets = presets.filter(graph_id=_parse_uuid(graph_id, "Graph"))
    return presets.order_by("-updated_at")


def preset_get(*, user: User, preset_id: uuid.UUID | str) -> Preset:
    preset = Preset.objects.filter(user=user, pk=_parse_uuid(preset_id, "Preset")).first()
    if preset is None:
        raise NotFound("Preset not found.")
    return preset


def block_list(*, category: str = "", provider: str = "", search: str = "") -> list[Block]:
    """Every block of the installation, by name; `category` (e.g. AI), `provider` (whose
    credentials it uses, e.g. github) and `search` (words of the name or description,
    case-insensitive, all must appear) narrow it."""
    blocks = sorted(all_blocks(), key=lambda block: block.name.lower())
    if category:
        blocks = [block for block in blocks if category.upper() in block.categories]
    if provider:
        provider = provider.strip().lower()
        blocks = [block for block in blocks if block.credentials_provider == provider]
    words = search.lower().split()
    if words:
        blocks = [
            block
            for block in blocks
            if all(word in f"{block.name} {block.description}".lower() for word in words)
        ]
    return blocks


def graphs_using_credentials(*, user: User) -> dict[str, list[tuple[str, str]]]:
    """By credential id: the user's agents (graph id, name) whose active version has a node
    set to use it (SPEC §16: a credential shows which agents use it). One query."""
    rows = (
        Node.objects.filter(
            graph_version__graph__user=user,
            graph_version__is_active=True,
            metadata__has_key="credentials_id",
        )
        .values_list("metadata", "graph_version__graph_id", "graph_version__name")
        .order_by("graph_version__name")
    )
    using: dict[str, list[tuple[str, str]]] = {}
    for metadata, graph_id, name in rows:
        agents = using.setdefault(str(metadata.get("credentials_id")), [])
        if (str(graph_id), name) not in agents:
            agents.append((str(graph_id), name))
    return using
