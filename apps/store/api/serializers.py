from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.graphs.analysis import graph_input_schema, graph_output_names
from apps.graphs.spec import GraphSpec
from apps.store.models import (
    MAX_PROFILE_LINKS,
    LibraryAgent,
    Profile,
    StoreListingVersion,
    StoreReview,
)

MAX_IMAGES = 10


# --- creators --------------------------------------------------------------------------------


class CreatorBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Profile
        fields = ["username", "name", "avatar_url"]


class ProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = Profile
        fields = [
            "username",
            "name",
            "description",
            "links",
            "avatar_url",
            "is_featured",
            "created_at",
        ]


class ProfileInSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$",
        min_length=3,
        max_length=40,
        required=False,
        error_messages={"invalid": "Only letters, digits and single - or _ between them."},
    )
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    links = serializers.ListField(
        child=serializers.URLField(max_length=500), max_length=MAX_PROFILE_LINKS, required=False
    )
    avatar_url = serializers.URLField(max_length=500, required=False, allow_blank=True)


class CreatorSerializer(ProfileSerializer):
    agent_count = serializers.IntegerField()
    runs = serializers.IntegerField()
    rating = serializers.FloatField(allow_null=True)

    class Meta(ProfileSerializer.Meta):
        fields = [*ProfileSerializer.Meta.fields, "agent_count", "runs", "rating"]


# --- listed agents ---------------------------------------------------------------------------


class _VersionContentSerializer(serializers.ModelSerializer):
    listing_id = serializers.UUIDField()
    slug = serializers.CharField(source="listing.slug")
    graph_id = serializers.UUIDField(source="listing.graph_id")

    class Meta:
        model = StoreListingVersion
        fields = [
            "listing_id",
            "slug",
            "graph_id",
            "graph_version",
            "version",
            *StoreListingVersion.CONTENT_FIELDS,
        ]


class StoreAgentSerializer(_VersionContentSerializer):
    """A listed agent: its listing and active version, with statistics."""

    listing_version_id = serializers.UUIDField(source="pk")
    creator = CreatorBriefSerializer(source="listing.owner.store_profile")
    name = serializers.CharField(source="listing.name")
    description = serializers.CharField(source="listing.description")
    is_featured = serializers.BooleanField(source="listing.is_featured")
    runs = serializers.IntegerField(help_text="Runs by users other than the creator")
    rating = serializers.FloatField(allow_null=True, help_text="Average review score")
    review_count = serializers.IntegerField()
    updated_at = serializers.DateTimeField(source="reviewed_at")

    class Meta(_VersionContentSerializer.Meta):
        fields = [
            "listing_version_id",
            *_VersionContentSerializer.Meta.fields,
            "creator",
            "is_featured",
            "runs",
            "rating",
            "review_count",
            "updated_at",
        ]


class StoreAgentVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = StoreListingVersion
        fields = ["id", "version", "graph_version", "changes_summary", "reviewed_at"]


class StoreReviewSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="listing_version.version")
    reviewer = serializers.SerializerMethodField()

    class Meta:
        model = StoreReview
        fields = ["id", "version", "score", "comments", "reviewer", "created_at", "updated_at"]

    def get_reviewer(self, review: StoreReview) -> str:
        profile = getattr(review.user, "store_profile", None)
        return profile.username if profile else review.user.display_name


class StoreAgentDetailSerializer(serializers.Serializer):
    agent = StoreAgentSerializer()
    versions = StoreAgentVersionSerializer(many=True)
    reviews = StoreReviewSerializer(many=True)


class ReviewInSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comments = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: the active version"
    )


class CreatorDetailSerializer(serializers.Serializer):
    creator = CreatorSerializer()
    agents = StoreAgentSerializer(many=True)


# --- submissions -----------------------------------------------------------------------------


class SubmissionContentInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    sub_heading = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    categories = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=10, required=False
    )
    image_urls = serializers.ListField(
        child=serializers.URLField(max_length=500), max_length=MAX_IMAGES, required=False
    )
    video_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    changes_summary = serializers.CharField(max_length=500, required=False, allow_blank=True)
    graph_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: the graph's active version"
    )
    draft = serializers.BooleanField(
        required=False, help_text="Keep it a draft instead of submitting it for review"
    )


class SubmissionInSerializer(SubmissionContentInSerializer):
    graph_id = serializers.UUIDField()
    slug = serializers.CharField(
        max_length=100, required=False, help_text="Cleaned to a-z, 0-9 and dashes; default: name"
    )


class SubmissionUpdateSerializer(SubmissionContentInSerializer):
    name = serializers.CharField(max_length=100, required=False)


class SubmissionSerializer(_VersionContentSerializer):
    """A creator's view of their version: never the staff's internal comments."""

    id = serializers.UUIDField()

    class Meta(_VersionContentSerializer.Meta):
        fields = [
            "id",
            *_VersionContentSerializer.Meta.fields,
            "status",
            "is_active",
            "submitted_at",
            "review_comments",
            "reviewed_at",
            "created_at",
            "updated_at",
        ]


class AdminSubmissionSerializer(SubmissionSerializer):
    creator = CreatorBriefSerializer(source="listing.owner.store_profile")
    reviewer_email = serializers.EmailField(source="reviewer.email", allow_null=True, default=None)

    class Meta(SubmissionSerializer.Meta):
        fields = [
            *SubmissionSerializer.Meta.fields,
            "creator",
            "internal_comments",
            "reviewer_email",
        ]


class ReviewDecisionSerializer(serializers.Serializer):
    is_approved = serializers.BooleanField()
    comments = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="For the creator"
    )
    internal_comments = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="Staff only"
    )


# --- library ---------------------------------------------------------------------------------


class LibraryAgentSerializer(serializers.ModelSerializer):
    listing_id = serializers.UUIDField()
    listing_version_id = serializers.UUIDField()
    slug = serializers.CharField(source="listing.slug")
    creator = CreatorBriefSerializer(source="listing.owner.store_profile")
    name = serializers.CharField(source="listing_version.name")
    sub_heading = serializers.CharField(source="listing_version.sub_heading")
    version = serializers.IntegerField(source="listing_version.version")
    graph_id = serializers.UUIDField(source="listing.graph_id")
    graph_version = serializers.IntegerField(source="listing_version.graph_version")
    is_available = serializers.SerializerMethodField()
    update_available = serializers.SerializerMethodField()

    class Meta:
        model = LibraryAgent
        fields = [
            "id",
            "listing_id",
            "listing_version_id",
            "slug",
            "creator",
            "name",
            "sub_heading",
            "version",
            "graph_id",
            "graph_version",
            "is_favorite",
            "is_archived",
            "auto_update",
            "is_available",
            "update_available",
            "created_at",
            "updated_at",
        ]

    def get_is_available(self, agent: LibraryAgent) -> bool:
        return agent.listing_version.status == StoreListingVersion.Status.APPROVED

    def get_update_available(self, agent: LibraryAgent) -> bool:
        # Annotated by store selectors._library; the model does not declare it.
        active = agent.active_version_id  # type: ignore[attr-defined]
        return active is not None and active != agent.listing_version_id


class LibraryAgentDetailSerializer(LibraryAgentSerializer):
    """With what a run needs: the graph's input schema and output names."""

    # From the version's GraphSpec the view passes as context["spec"]: no query here.

    input_schema = serializers.SerializerMethodField()
    output_names = serializers.SerializerMethodField()

    class Meta(LibraryAgentSerializer.Meta):
        fields = [*LibraryAgentSerializer.Meta.fields, "input_schema", "output_names"]

    def _spec(self, agent: LibraryAgent) -> GraphSpec:
        return self.context["spec"]

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_input_schema(self, agent: LibraryAgent) -> dict[str, Any]:
        return graph_input_schema(self._spec(agent))

    def get_output_names(self, agent: LibraryAgent) -> list[str]:
        return graph_output_names(self._spec(agent))


class LibraryAddSerializer(serializers.Serializer):
    store_listing_version_id = serializers.UUIDField()


class LibraryUpdateSerializer(serializers.Serializer):
    is_favorite = serializers.BooleanField(required=False)
    is_archived = serializers.BooleanField(required=False)
    auto_update = serializers.BooleanField(required=False)


class AvatarUploadSerializer(serializers.Serializer):
    avatar = serializers.FileField()
