from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.common.exceptions import PlatformError
from apps.store import services
from apps.store.models import LibraryAgent, Profile, StoreListing, StoreListingVersion, StoreReview
from apps.users.requests import AuthenticatedHttpRequest


class ReviewForm(forms.Form):
    comments = forms.CharField(
        widget=forms.Textarea, required=False, max_length=2000, help_text="Shown to the creator."
    )
    internal_comments = forms.CharField(
        widget=forms.Textarea, required=False, max_length=2000, help_text="Staff only."
    )


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["username", "name", "user", "is_featured", "created_at"]
    list_filter = ["is_featured"]
    list_editable = ["is_featured"]
    search_fields = ["username", "name", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "created_at", "updated_at"]


class VersionInline(admin.TabularInline):
    model = StoreListingVersion
    fields = readonly_fields = (
        "version",
        "name",
        "status",
        "is_active",
        "submitted_at",
        "reviewed_at",
    )
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(StoreListing)
class StoreListingAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "owner", "is_featured", "updated_at"]
    list_filter = ["is_featured"]
    list_editable = ["is_featured"]
    search_fields = ["slug", "name", "owner__email"]
    list_select_related = ["owner"]
    readonly_fields = ["owner", "graph", "slug", "name", "description", "created_at"]
    inlines = [VersionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(StoreListingVersion)
class StoreListingVersionAdmin(admin.ModelAdmin):
    """The review queue: approve or reject with the actions (comments go to the creator,
    internal comments stay with staff)."""

    list_display = ["name", "listing", "version", "status", "is_active", "submitted_at"]
    list_filter = ["status", "is_active"]
    search_fields = ["name", "listing__slug", "listing__owner__email"]
    list_select_related = ["listing"]
    ordering = ["-submitted_at"]
    readonly_fields = [
        "listing",
        "version",
        "graph_version",
        *StoreListingVersion.CONTENT_FIELDS,
        "status",
        "is_active",
        "submitted_at",
        "reviewer",
        "review_comments",
        "internal_comments",
        "reviewed_at",
    ]
    actions = ["approve", "reject"]

    @admin.action(description="Approve the selected submissions")
    def approve(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet
    ) -> TemplateResponse | None:
        return self._review(request, queryset, is_approved=True)

    @admin.action(description="Reject the selected submissions")
    def reject(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet
    ) -> TemplateResponse | None:
        return self._review(request, queryset, is_approved=False)

    def _review(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet, *, is_approved: bool
    ) -> TemplateResponse | None:
        form = ReviewForm(request.POST if "apply" in request.POST else None)
        verb = "Approve" if is_approved else "Reject"
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": f"{verb} submissions",
                "form": form,
                "versions": queryset,
                "action": "approve" if is_approved else "reject",
                "verb": verb,
            }
            return TemplateResponse(request, "admin/store/review.html", context)
        done = 0
        for version in queryset:
            try:
                services.submission_review(
                    reviewer=request.user,
                    version_id=version.pk,
                    is_approved=is_approved,
                    **form.cleaned_data,
                )
                done += 1
            except PlatformError as exc:
                self.message_user(request, f"{version}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{verb}d {done} submission(s).")
        return None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(StoreReview)
class StoreReviewAdmin(admin.ModelAdmin):
    list_display = ["listing_version", "user", "score", "updated_at"]
    list_filter = ["score"]
    search_fields = ["user__email", "listing_version__name"]
    list_select_related = ["listing_version", "user"]
    readonly_fields = ["listing_version", "user", "score", "comments", "created_at", "updated_at"]


@admin.register(LibraryAgent)
class LibraryAgentAdmin(admin.ModelAdmin):
    list_display = ["listing", "user", "listing_version", "is_favorite", "is_archived"]
    search_fields = ["user__email", "listing__slug"]
    list_select_related = ["listing", "user", "listing_version"]
    readonly_fields = ["user", "listing", "listing_version", "created_at", "updated_at"]
