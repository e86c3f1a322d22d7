"""Reads of graphs and presets. A graph is visible to its owner, and to everyone when it is a
template; anything else is NotFound (never a 403 that confirms it exists)."""

import uuid

from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from apps.common.exceptions import NotFound, PermissionDenied
from apps.graphs.blocks.base import Block
from apps.graphs.blocks.registry import all_blocks
from apps.graphs.models import Graph, GraphVersion, Link, Node, Preset
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
