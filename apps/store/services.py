"""Writes of the store: profiles, submissions, staff review, reviews (SPEC §10).

A listing's versions are numbered under a lock on the listing row. The database keeps at most
one active version per listing (`store_one_active_version`), so activating one first
deactivates the other. `submission_reviewed` leaves after commit. Library agents point at a
listing version; running one starts a run of the creator's graph that belongs to the runner.
"""

import re
import unicodedata
import uuid
from collections.abc import Iterable
from typing import Any

import nh3
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.common.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.executions.models import GraphExecution
from apps.executions.services import graph_execution_start
from apps.graphs import selectors as graph_selectors
from apps.graphs.models import Graph, GraphVersion
from apps.graphs.services import graph_copy
from apps.store import selectors
from apps.store.models import (
    LibraryAgent,
    Profile,
    StoreListing,
    StoreListingVersion,
    StoreReview,
)
from apps.store.signals import submission_reviewed
from apps.users.models import User

Status = StoreListingVersion.Status
MAX_CATEGORIES = 10


def clean_slug(raw: str, *, what: str = "slug", max_length: int = 100) -> str:
    """`Café Bot 2!` → `cafe-bot-2`: ASCII letters and digits joined by single dashes."""
    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")
    if not slug:
        raise ValidationFailed(
            f"{what} must contain at least one letter or digit.", details={"fields": {what: raw}}
        )
    return slug


def sanitize_html(html: str) -> str:
    """Descriptions are HTML shown to everyone: scripts, handlers and unsafe URLs go."""
    return nh3.clean(html) if html else ""


def _clean_categories(raw: Iterable[str]) -> list[str]:
    categories = list(dict.fromkeys(clean_slug(c, what="categories", max_length=40) for c in raw))
    if len(categories) > MAX_CATEGORIES:
        raise ValidationFailed(f"At most {MAX_CATEGORIES} categories.")
    return categories


def _clean_content(fields: dict[str, Any]) -> dict[str, Any]:
    content = {name: fields[name] for name in StoreListingVersion.CONTENT_FIELDS if name in fields}
    if "description" in content:
        content["description"] = sanitize_html(content["description"])
    if "categories" in content:
        content["categories"] = _clean_categories(content["categories"])
    return content


# --- profiles --------------------------------------------------------------------------------


def _free_username(base: str) -> str:
    base = base[:34]
    taken = {
        name.lower()
        for name in Profile.objects.filter(username__istartswith=base).values_list(
            "username", flat=True
        )
    }
    candidate, suffix = base, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{base}-{suffix}"
    return candidate


def profile_ensure(*, user: User) -> Profile:
    """The user's profile, created with a free username taken from their name when missing."""
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        base = clean_slug(user.display_name, what="username", max_length=34)
        profile = Profile.objects.create(user=user, username=_free_username(base), name=user.name)
    return profile


@transaction.atomic
def profile_update(*, user: User, **fields: Any) -> Profile:
    """Create or change the user's profile; a username someone else has is a 409."""
    profile = Profile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        if "username" not in fields:
            raise ValidationFailed(
                "username is required to create a profile.", details={"fields": {"username": ""}}
            )
        profile = Profile(user=user)
    if "username" in fields:
        fields["username"] = fields["username"].lower()
        clash = Profile.objects.filter(username__iexact=fields["username"]).exclude(user=user)
        if clash.exists():
            raise Conflict(f"The username '{fields['username']}' is taken.")
    if "description" in fields:
        fields["description"] = sanitize_html(fields["description"])
    for name, value in fields.items():
        setattr(profile, name, value)
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise Conflict(f"The username '{profile.username}' is taken.") from None
    return profile


# --- submissions -----------------------------------------------------------------------------


def _owned_graph_version(*, user: User, graph_id: Any, version: int | None) -> GraphVersion:
    found = graph_selectors.graph_version_get(user=user, graph_id=graph_id, version=version)
    if found.graph.user_id != user.pk:  # a template of someone else's
        raise NotFound("Graph not found.")
    return found


def _check_nothing_waiting(listing: StoreListing) -> None:
    waiting = listing.versions.filter(status__in=[Status.DRAFT, Status.PENDING]).first()
    if waiting is not None:
        raise Conflict(
            f"Version {waiting.version} of this agent is still a {waiting.status} submission; "
            "edit or delete it instead of submitting another.",
            details={"submission_id": str(waiting.pk)},
        )


def _new_version(
    listing: StoreListing, *, graph_version: int, draft: bool, content: dict[str, Any]
) -> StoreListingVersion:
    """Version max+1 of a listing whose row the caller has locked."""
    latest = listing.versions.aggregate(latest=Max("version"))["latest"] or 0
    return StoreListingVersion.objects.create(
        listing=listing,
        version=latest + 1,
        graph_version=graph_version,
        status=Status.DRAFT if draft else Status.PENDING,
        submitted_at=None if draft else timezone.now(),
        **content,
    )


@transaction.atomic
def submission_create(
    *,
    user: User,
    graph_id: uuid.UUID | str,
    graph_version: int | None = None,
    slug: str | None = None,
    draft: bool = False,
    **fields: Any,
) -> StoreListingVersion:
    """Submit a version of a graph the user owns for review (or keep it a draft).

    The graph's first submission creates its listing under the cleaned slug (default: from the
    name; a slug the user already uses is a 409); later ones add version n+1 to that listing.
    One draft or pending version per listing at a time: edit it rather than submitting another
    (409).
    """
    source = _owned_graph_version(user=user, graph_id=graph_id, version=graph_version)
    content = _clean_content(fields)
    slug = clean_slug(slug) if slug is not None else None
    profile_ensure(user=user)
    # Submissions of one graph are serialised by its row, so it never gets two listings.
    Graph.objects.select_for_update().filter(pk=source.graph_id).first()
    listing = StoreListing.objects.select_for_update().filter(graph_id=source.graph_id).first()
    if listing is None:
        slug = slug or clean_slug(content["name"])
        if StoreListing.objects.filter(owner=user, slug=slug).exists():
            raise _slug_taken(slug)
        try:
            with transaction.atomic():
                listing = StoreListing.objects.create(
                    owner=user, graph_id=source.graph_id, slug=slug
                )
        except IntegrityError:
            raise _slug_taken(slug) from None
    elif slug is not None and listing.slug != slug:
        raise Conflict(
            f"This agent is already listed as '{listing.slug}'; its slug cannot change.",
            details={"slug": listing.slug},
        )
    _check_nothing_waiting(listing)
    return _new_version(listing, graph_version=source.version, draft=draft, content=content)


def _slug_taken(slug: str) -> Conflict:
    return Conflict(
        f"You already have a store listing with the slug '{slug}'; choose another.",
        details={"slug": slug},
    )


@transaction.atomic
def submission_update(
    *,
    user: User,
    version_id: uuid.UUID | str,
    graph_version: int | None = None,
    draft: bool | None = None,
    **fields: Any,
) -> StoreListingVersion:
    """Edit a submission. A draft or pending one changes in place (`draft=False` submits a
    draft); an approved one stays as it is and the edit becomes a new pending version n+1;
    a rejected one cannot change (409: submit a new version)."""
    version = selectors.submission_get(user=user, version_id=version_id, for_update=True)
    if version.status == Status.REJECTED:
        raise Conflict("A rejected version cannot be edited; submit a new version instead.")
    if graph_version is not None:
        graph_version = _owned_graph_version(
            user=user, graph_id=version.listing.graph_id, version=graph_version
        ).version
    content = _clean_content(fields)
    if version.status == Status.APPROVED:
        _check_nothing_waiting(version.listing)
        base = {name: getattr(version, name) for name in StoreListingVersion.CONTENT_FIELDS}
        return _new_version(
            version.listing,
            graph_version=graph_version or version.graph_version,
            draft=bool(draft),
            content={**base, "changes_summary": "", **content},
        )
    for name, value in content.items():
        setattr(version, name, value)
    if graph_version is not None:
        version.graph_version = graph_version
    if draft is not None:
        version.status = Status.DRAFT if draft else Status.PENDING
        version.submitted_at = None if draft else (version.submitted_at or timezone.now())
    version.save()
    return version


@transaction.atomic
def submission_delete(*, user: User, version_id: uuid.UUID | str) -> None:
    """Withdraw a draft or pending version; a listing left without versions goes too."""
    version = selectors.submission_get(user=user, version_id=version_id, for_update=True)
    if version.status not in (Status.DRAFT, Status.PENDING):
        raise Conflict(
            f"Only draft or pending versions can be deleted; this one is {version.status}."
        )
    listing = version.listing
    version.delete()
    if not listing.versions.exists():
        listing.delete()


# --- staff review ----------------------------------------------------------------------------

REVIEWABLE = {
    Status.APPROVED: (Status.PENDING, Status.REJECTED),
    # Rejecting an approved version takes it down.
    Status.REJECTED: (Status.PENDING, Status.APPROVED),
}


def _activate(listing: StoreListing, version: StoreListingVersion) -> None:
    """Make an approved version the active one; the listing shows its name and description,
    and library agents that follow updates move to it."""
    listing.versions.filter(is_active=True).exclude(pk=version.pk).update(is_active=False)
    version.is_active = True
    version.save(update_fields=["is_active", "updated_at"])
    listing.name, listing.description = version.name, version.description
    listing.save(update_fields=["name", "description", "updated_at"])
    LibraryAgent.objects.filter(listing=listing, auto_update=True).update(
        listing_version=version, updated_at=timezone.now()
    )


@transaction.atomic
def submission_review(
    *,
    reviewer: User,
    version_id: uuid.UUID | str,
    is_approved: bool,
    comments: str = "",
    internal_comments: str = "",
) -> StoreListingVersion:
    """Staff approve or reject a submitted version.

    Approval makes it the listing's active version. Rejecting the active version falls back to
    the newest other approved one (or leaves the listing unlisted); library agents on the
    rejected version move to the fallback. `submission_reviewed` is sent after commit.
    """
    listing_id = (
        StoreListingVersion.objects.filter(pk=selectors.parse_uuid(version_id, "Submission"))
        .values_list("listing_id", flat=True)
        .first()
    )
    listing = (
        StoreListing.objects.select_for_update().filter(pk=listing_id).first()
        if listing_id is not None
        else None
    )
    if listing is None:
        raise NotFound("Submission not found.")
    version = listing.versions.get(pk=version_id)
    target = Status.APPROVED if is_approved else Status.REJECTED
    if version.status not in REVIEWABLE[target]:
        raise Conflict(f"A {version.status} version cannot be {target}.")
    was_active = version.is_active
    version.status, version.is_active = target, False
    version.reviewer, version.reviewed_at = reviewer, timezone.now()
    version.review_comments, version.internal_comments = comments, internal_comments
    version.save()
    if is_approved:
        _activate(listing, version)
    else:
        if was_active:
            fallback = listing.versions.filter(status=Status.APPROVED).order_by("-version").first()
            if fallback is not None:
                _activate(listing, fallback)
        active = listing.versions.filter(is_active=True).first()
        if active is not None:
            LibraryAgent.objects.filter(listing_version=version).update(
                listing_version=active, updated_at=timezone.now()
            )
    event = {
        "user_id": listing.owner_id,
        "listing_version_id": version.pk,
        "agent_name": version.name,
        "status": "APPROVED" if is_approved else "REJECTED",
        "reviewer_comments": comments,
    }
    transaction.on_commit(lambda: submission_reviewed.send(sender=None, **event))
    return version


# --- reviews ---------------------------------------------------------------------------------


@transaction.atomic
def review_submit(
    *,
    user: User,
    username: str,
    slug: str,
    score: int,
    comments: str = "",
    version: int | None = None,
) -> tuple[StoreReview, bool]:
    """Review a listed agent's active version (or an approved `version`): one review per user
    per version, a second one replaces the first. Creators cannot review their own agents.
    Returns the review and whether it is new."""
    agent = selectors.store_agent_get(user=user, username=username, slug=slug)
    if agent.listing.owner_id == user.pk:
        raise PermissionDenied("You cannot review your own agent.")
    target: StoreListingVersion | None = agent
    if version is not None and version != agent.version:
        target = StoreListingVersion.objects.filter(
            listing_id=agent.listing_id, version=version, status=Status.APPROVED
        ).first()
        if target is None:
            raise NotFound(f"Version {version} of this agent is not in the store.")
    if not 1 <= score <= 5:
        raise ValidationFailed("score must be from 1 to 5.", details={"fields": {"score": score}})
    review, created = StoreReview.objects.update_or_create(
        listing_version=target, user=user, defaults={"score": score, "comments": comments}
    )
    return review, created


# --- library ---------------------------------------------------------------------------------


@transaction.atomic
def library_agent_add(
    *, user: User, listing_version_id: uuid.UUID | str
) -> tuple[LibraryAgent, bool]:
    """Add an approved listing version to the user's library (no copy of the graph is made).
    Adding an agent already there points it at that version and takes it out of the archive.
    Returns the library agent and whether it is new."""
    version = selectors.listing_version_get_approved(listing_version_id=listing_version_id)
    agent, created = LibraryAgent.objects.get_or_create(
        user=user, listing=version.listing, defaults={"listing_version": version}
    )
    if not created:
        agent.listing_version, agent.is_archived = version, False
        agent.save(update_fields=["listing_version", "is_archived", "updated_at"])
    return selectors.library_agent_get(user=user, library_agent_id=agent.pk), created


@transaction.atomic
def library_agent_update(
    *,
    user: User,
    library_agent_id: uuid.UUID | str,
    is_favorite: bool | None = None,
    is_archived: bool | None = None,
    auto_update: bool | None = None,
) -> LibraryAgent:
    """Favourite, archive, or follow updates; turning auto-update on moves the agent to the
    listing's active version at once."""
    agent = selectors.library_agent_get(user=user, library_agent_id=library_agent_id)
    for name, value in (
        ("is_favorite", is_favorite),
        ("is_archived", is_archived),
        ("auto_update", auto_update),
    ):
        if value is not None:
            setattr(agent, name, value)
    # active_version_id: annotated by selectors._library, which the model does not declare.
    active_version_id = agent.active_version_id  # type: ignore[attr-defined]
    if auto_update and active_version_id is not None:
        agent.listing_version_id = active_version_id
    agent.save()
    return selectors.library_agent_get(user=user, library_agent_id=agent.pk)


def library_agent_delete(*, user: User, library_agent_id: uuid.UUID | str) -> None:
    selectors.library_agent_get(user=user, library_agent_id=library_agent_id).delete()


def _runnable(agent: LibraryAgent) -> StoreListingVersion:
    version = agent.listing_version
    if version.status != Status.APPROVED:
        raise NotFound("This agent version was withdrawn from the store.")
    return version


def library_agent_run(
    *,
    user: User,
    library_agent_id: uuid.UUID | str,
    inputs: dict[str, Any] | None = None,
    credentials_inputs: dict[str, Any] | None = None,
    max_credits: int | None = None,
) -> GraphExecution:
    """Run a library agent: the run belongs to `user` and is charged to them, though the graph
    is the creator's (executions trust the library membership checked here)."""
    agent = selectors.library_agent_get(user=user, library_agent_id=library_agent_id)
    version = _runnable(agent)
    return graph_execution_start(
        user=user,
        graph_id=agent.listing.graph_id,
        graph_version=version.graph_version,
        inputs=inputs,
        credentials_inputs=credentials_inputs,
        max_credits=max_credits,
        access_checked=True,
    )


def library_agent_fork(*, user: User, library_agent_id: uuid.UUID | str) -> GraphVersion:
    """Copy a library agent's graph version into a new graph of the user's (`forked_from`)."""
    agent = selectors.library_agent_get(user=user, library_agent_id=library_agent_id)
    _runnable(agent)
    source = selectors.library_agent_graph_version(user=user, agent=agent)
    return graph_copy(user=user, source=source)
