"""Reads of the store and the library.

Public reads show approved, active versions only: a draft, a pending or a rejected version is
NotFound to everyone but its creator (through the submission selectors) and staff. Statistics
(runs by others than the creator, average rating, review and agent counts) are correlated
subqueries, so a page of listings or creators is one query whatever its size.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from apps.common.exceptions import NotFound, ValidationFailed
from apps.executions.models import GraphExecution
from apps.graphs import selectors as graph_selectors
from apps.graphs.models import GraphVersion
from apps.store.models import (
    LibraryAgent,
    Profile,
    StoreListing,
    StoreListingVersion,
    StoreReview,
)
from apps.users.models import User

Status = StoreListingVersion.Status
AGENT_SORTS = ("relevance", "runs", "rating", "newest")
CREATOR_SORTS = ("runs", "rating", "agents", "newest")
RECENT_REVIEWS = 50


def parse_uuid(value: uuid.UUID | str, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"{what} not found.") from None


def _aggregate(queryset: QuerySet, function: str, field: str, output: Any) -> Subquery:
    """One aggregate over a correlated subquery (no GROUP BY: the filter is the group)."""
    value = Func(F(field), function=function, output_field=output)
    return Subquery(queryset.order_by().annotate(value=value).values("value")[:1])


def _count(queryset: QuerySet) -> Coalesce:
    return Coalesce(_aggregate(queryset, "COUNT", "pk", IntegerField()), Value(0))


def _check_choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValidationFailed(
            f"{name} must be one of {', '.join(allowed)}.", details={"fields": {name: value}}
        )
    return value


# --- listed agents ---------------------------------------------------------------------------


def _listed_versions() -> QuerySet[StoreListingVersion]:
    """Active (so approved) versions with their listing, creator and statistics."""
    others_runs = GraphExecution.objects.filter(
        graph_id=OuterRef("listing__graph_id"), parent__isnull=True
    ).exclude(user_id=OuterRef("listing__owner_id"))
    reviews = StoreReview.objects.filter(listing_version__listing_id=OuterRef("listing_id"))
    return (
        StoreListingVersion.objects.filter(is_active=True)
        .select_related("listing__owner__store_profile")
        .annotate(
            runs=_count(others_runs),
            rating=_aggregate(reviews, "AVG", "score", FloatField()),
            review_count=_count(reviews),
        )
    )


def _search(versions: QuerySet[StoreListingVersion], text: str) -> QuerySet:
    """Full-text search with a rank on PostgreSQL; substring matching on SQLite."""
    creator = "listing__owner__store_profile"
    if connection.vendor == "postgresql":
        vector = (
            SearchVector("listing__name", weight="A", config="english")
            + SearchVector("sub_heading", f"{creator}__username", weight="B", config="english")
            + SearchVector(f"{creator}__name", Cast("categories", TextField()), weight="B")
            + SearchVector("listing__description", weight="C", config="english")
        )
        query = SearchQuery(text, search_type="websearch", config="english")
        return versions.annotate(document=vector, rank=SearchRank(vector, query)).filter(
            document=query
        )
    matches = {
        "listing__name": 4,
        "sub_heading": 3,
        f"{creator}__username": 2,
        f"{creator}__name": 2,
        "categories": 2,
        "listing__description": 1,
    }
    found = Q()
    for field in matches:
        found |= Q(**{f"{field}__icontains": text})
    rank = Case(
        *(When(Q(**{f"{field}__icontains": text}), then=Value(w)) for field, w in matches.items()),
        default=Value(0),
        output_field=FloatField(),
    )
    return versions.filter(found).annotate(rank=rank)


def _has_category(category: str) -> Q:
    if connection.vendor == "postgresql":
        return Q(categories__contains=[category])
    # SQLite has no JSON containment; categories are cleaned slugs, so the quoted element
    # cannot match inside another one.
    return Q(categories__icontains=f'"{category}"')


def store_agent_list(
    *,
    user: User | None,
    featured: bool = False,
    creator: str | None = None,
    category: str | None = None,
    search: str | None = None,
    sort: str | None = None,
) -> QuerySet[StoreListingVersion]:
    """Listed agents (one row per listing: its active version). `user` may be anonymous."""
    versions = _listed_versions()
    if featured:
        versions = versions.filter(listing__is_featured=True)
    if creator:
        versions = versions.filter(listing__owner__store_profile__username__iexact=creator)
    if category:
        versions = versions.filter(_has_category(category.strip().lower()))
    if search:
        versions = _search(versions, search.strip())
    sort = _check_choice(sort or ("relevance" if search else "runs"), AGENT_SORTS, "sort")
    order = {
        "relevance": [F("rank").desc()] if search else [],
        "runs": [F("runs").desc()],
        "rating": [F("rating").desc(nulls_last=True), F("review_count").desc()],
        "newest": [],
    }[sort]
    return versions.order_by(*order, "-listing__created_at", "pk")


def store_agent_get(*, user: User | None, username: str, slug: str) -> StoreListingVersion:
    found = (
        _listed_versions()
        .filter(listing__owner__store_profile__username__iexact=username, listing__slug=slug)
        .first()
    )
    if found is None:
        raise NotFound("Agent not found in the store.")
    return found


@dataclass(frozen=True)
class StoreAgentDetail:
    agent: StoreListingVersion  # the active version, with statistics
    versions: list[StoreListingVersion]  # approved ones, newest first
    reviews: list[StoreReview]  # newest first, at most RECENT_REVIEWS


def store_agent_detail(*, user: User | None, username: str, slug: str) -> StoreAgentDetail:
    """Three queries: the listing, its approved versions, its latest reviews."""
    agent = store_agent_get(user=user, username=username, slug=slug)
    versions = StoreListingVersion.objects.filter(
        listing_id=agent.listing_id, status=Status.APPROVED
    ).order_by("-version")
    reviews = (
        StoreReview.objects.filter(listing_version__listing_id=agent.listing_id)
        .select_related("user__store_profile", "listing_version")
        .order_by("-updated_at", "pk")[:RECENT_REVIEWS]
    )
    return StoreAgentDetail(agent=agent, versions=list(versions), reviews=list(reviews))


def listing_version_get_approved(*, listing_version_id: uuid.UUID | str) -> StoreListingVersion:
    """An approved version of any listing (what users may add to their library)."""
    version = (
        StoreListingVersion.objects.select_related("listing")
        .filter(pk=parse_uuid(listing_version_id, "Listing version"), status=Status.APPROVED)
        .first()
    )
    if version is None:
        raise NotFound("Listing version not found in the store.")
    return version


# --- creators --------------------------------------------------------------------------------


def _creators() -> QuerySet[Profile]:
    listed = StoreListingVersion.objects.filter(
        is_active=True, listing__owner_id=OuterRef("user_id")
    )
    others_runs = GraphExecution.objects.filter(
        graph__user_id=OuterRef("user_id"),
        graph__store_listing__versions__is_active=True,
        parent__isnull=True,
    ).exclude(user_id=OuterRef("user_id"))
    reviews = StoreReview.objects.filter(
        listing_version__listing__owner_id=OuterRef("user_id"),
        listing_version__listing__versions__is_active=True,
    )
    return Profile.objects.annotate(
        agent_count=_count(listed),
        runs=_count(others_runs),
        rating=_aggregate(reviews, "AVG", "score", FloatField()),
    ).filter(agent_count__gt=0)


def creator_list(
    *,
    user: User | None,
    featured: bool = False,
    search: str | None = None,
    sort: str | None = None,
) -> QuerySet[Profile]:
    """Profiles with at least one listed agent."""
    creators = _creators()
    if featured:
        creators = creators.filter(is_featured=True)
    if search:
        text = search.strip()
        creators = creators.filter(
            Q(username__icontains=text) | Q(name__icontains=text) | Q(description__icontains=text)
        )
    order = {
        "runs": [F("runs").desc()],
        "rating": [F("rating").desc(nulls_last=True)],
        "agents": [F("agent_count").desc()],
        "newest": [],
    }[_check_choice(sort or "runs", CREATOR_SORTS, "sort")]
    return creators.order_by(*order, "-created_at", "pk")


def creator_get(*, user: User | None, username: str) -> Profile:
    creator = _creators().filter(username__iexact=username).first()
    if creator is None:
        raise NotFound("Creator not found.")
    return creator


def profile_get(*, user: User) -> Profile:
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        raise NotFound("You have no store profile yet; create it with PUT /api/store/profile.")
    return profile


# --- submissions (the creator's own versions) ------------------------------------------------


def submission_list(*, user: User, status: str | None = None) -> QuerySet[StoreListingVersion]:
    versions = StoreListingVersion.objects.filter(listing__owner=user).select_related("listing")
    if status:
        versions = versions.filter(status=_check_choice(status, tuple(Status.values), "status"))
    return versions.order_by("-updated_at", "pk")


def submission_get(
    *, user: User, version_id: uuid.UUID | str, for_update: bool = False
) -> StoreListingVersion:
    """One of the user's versions; with for_update, its listing row is locked first."""
    versions = StoreListingVersion.objects.filter(
        pk=parse_uuid(version_id, "Submission"), listing__owner=user
    )
    if for_update:
        listing_id = versions.values_list("listing_id", flat=True).first()
        if listing_id is not None:
            StoreListing.objects.select_for_update().filter(pk=listing_id).first()
    version = versions.select_related("listing").first()
    if version is None:
        raise NotFound("Submission not found.")
    return version


def admin_submission_list(*, status: str | None = None) -> QuerySet[StoreListingVersion]:
    """Staff's review queue: every version, oldest submission first."""
    versions = StoreListingVersion.objects.select_related(
        "listing__owner__store_profile", "reviewer"
    )
    if status:
        versions = versions.filter(status=_check_choice(status, tuple(Status.values), "status"))
    return versions.order_by(F("submitted_at").asc(nulls_last=True), "pk")


# --- library ---------------------------------------------------------------------------------


def _library(user: User) -> QuerySet[LibraryAgent]:
    active = StoreListingVersion.objects.filter(listing_id=OuterRef("listing_id"), is_active=True)
    return (
        LibraryAgent.objects.filter(user=user)
        .select_related("listing__owner__store_profile", "listing_version")
        .annotate(active_version_id=Subquery(active.values("pk")[:1]))
    )


def library_agent_list(
    *,
    user: User,
    favorite: bool | None = None,
    archived: bool = False,
    search: str | None = None,
) -> QuerySet[LibraryAgent]:
    """The user's library, newest change first; archived agents only when asked for."""
    agents = _library(user).filter(is_archived=archived)
    if favorite is not None:
        agents = agents.filter(is_favorite=favorite)
    if search:
        text = search.strip()
        agents = agents.filter(
            Q(listing_version__name__icontains=text)
            | Q(listing_version__sub_heading__icontains=text)
        )
    return agents.order_by("-is_favorite", "-updated_at", "pk")


def library_agent_get(*, user: User, library_agent_id: uuid.UUID | str) -> LibraryAgent:
    agent = _library(user).filter(pk=parse_uuid(library_agent_id, "Library agent")).first()
    if agent is None:
        raise NotFound("Library agent not found.")
    return agent


# --- access to the graphs behind listings ----------------------------------------------------


def library_agent_graph_version(*, user: User, agent: LibraryAgent) -> GraphVersion:
    """The graph version behind an agent of the user's library, with its nodes and links."""
    return graph_selectors.graph_version_granted(
        user=user, graph_id=agent.listing.graph_id, version=agent.listing_version.graph_version
    )


def graph_version_grant(user: User) -> Q | None:
    """The graph versions the store lets `user` read though the graph is someone else's
    (apps.graphs.selectors.graph_versions_granted): the exact version of each agent in their
    library, and for staff every version submitted to the store (to review it)."""
    if not user.is_authenticated:
        return None
    library = Exists(
        LibraryAgent.objects.filter(
            user=user,
            listing__graph_id=OuterRef("graph_id"),
            listing_version__graph_version=OuterRef("version"),
        )
    )
    if not user.is_staff:
        return Q(library)
    submitted = Exists(
        StoreListingVersion.objects.filter(
            listing__graph_id=OuterRef("graph_id"), graph_version=OuterRef("version")
        )
    )
    return Q(library) | Q(submitted)
