"""The store and the library (SPEC §10).

A creator (Profile) submits a version of a graph they own; it becomes a StoreListingVersion of
the graph's StoreListing (one listing per graph, unique `(owner, slug)`). Staff review versions;
an approved version can be the listing's active one, and the database keeps at most one active
version per listing (a partial unique index) and only an approved one (a check). Users review
versions (one review per user per version) and keep listed agents in their library, which
points at a listing version: no copy of the graph is made.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
USERNAME_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
MAX_PROFILE_LINKS = 5
slug_validator = RegexValidator(SLUG_PATTERN, "Only a-z, 0-9 and single dashes.")
username_validator = RegexValidator(USERNAME_PATTERN, "Only a-z, 0-9, single - or _.")


class Profile(models.Model):
    """A user's public creator page; created on their first submission or with PUT profile."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_profile"
    )
    username = models.CharField(max_length=40, validators=[username_validator])
    name = models.CharField(max_length=100, blank=True)
    description = models.TextField(max_length=2000, blank=True)  # sanitised HTML
    links = models.JSONField(default=list, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    is_featured = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="store_profile_username_unique")
        ]

    def __str__(self) -> str:
        return self.username


class ProfileAvatar(models.Model):
    """An uploaded avatar, re-encoded as a small PNG by services.profile_avatar_set; the
    profile's avatar_url then points at GET /api/store/creators/{username}/avatar. A table of
    its own so that listing profiles never loads images."""

    profile = models.OneToOneField(Profile, on_delete=models.CASCADE, related_name="avatar")
    png = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"avatar of {self.profile_id}"


class StoreListing(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_listings"
    )
    # Deleting the graph withdraws it from the store (and from libraries).
    graph = models.OneToOneField(
        "graphs.Graph", on_delete=models.CASCADE, related_name="store_listing"
    )
    slug = models.CharField(max_length=100, validators=[slug_validator])
    # Copied from the version staff approved last (the version's own fields are the draft).
    name = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    is_featured = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "slug"], name="store_listing_owner_slug")
        ]

    def __str__(self) -> str:
        return self.slug


class StoreListingVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    # The fields a creator writes (everything else is the platform's or staff's).
    CONTENT_FIELDS = (
        "name",
        "sub_heading",
        "description",
        "categories",
        "image_urls",
        "video_url",
        "changes_summary",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(StoreListing, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    graph_version = models.PositiveIntegerField()  # of listing.graph
    name = models.CharField(max_length=100)
    sub_heading = models.CharField(max_length=200, blank=True)
    description = models.TextField(max_length=10_000, blank=True)  # sanitised HTML
    categories = models.JSONField(default=list, blank=True)  # cleaned slugs
    image_urls = models.JSONField(default=list, blank=True)
    video_url = models.URLField(max_length=500, blank=True)
    changes_summary = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    is_active = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    review_comments = models.TextField(blank=True)  # shown to the creator
    internal_comments = models.TextField(blank=True)  # staff only, never in a creator's view
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["listing", "version"], name="store_version_unique"),
            models.UniqueConstraint(
                fields=["listing"], condition=Q(is_active=True), name="store_one_active_version"
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(status="approved"),
                name="store_active_is_approved",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="store_version_status")]
        ordering = ["listing_id", "version"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class StoreReview(models.Model):
    listing_version = models.ForeignKey(
        StoreListingVersion, on_delete=models.CASCADE, related_name="reviews"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_reviews"
    )
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comments = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["listing_version", "user"], name="store_review_one_per_user"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="store_review_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 by {self.user_id}"


class LibraryAgent(models.Model):
    """A listed agent in a user's library: a pointer to a listing version, not a copy."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="library_agents"
    )
    listing = models.ForeignKey(StoreListing, on_delete=models.CASCADE, related_name="+")
    listing_version = models.ForeignKey(
        StoreListingVersion, on_delete=models.CASCADE, related_name="library_agents"
    )
    is_favorite = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    # Follow the listing's active version when staff approve a new one.
    auto_update = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "listing"], name="library_agent_unique")
        ]
        indexes = [models.Index(fields=["user", "-updated_at"], name="library_user_updated")]

    def __str__(self) -> str:
        return f"{self.listing_id} in {self.user_id}'s library"
