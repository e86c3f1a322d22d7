from django.urls import path

from apps.store.api import views

urlpatterns = [
    path("store/agents", views.StoreAgentListApi.as_view(), name="store-agents"),
    path(
        "store/agents/<str:username>/<str:slug>",
        views.StoreAgentDetailApi.as_view(),
        name="store-agent-detail",
    ),
    path(
        "store/agents/<str:username>/<str:slug>/review",
        views.StoreAgentReviewApi.as_view(),
        name="store-agent-review",
    ),
    path("store/creators", views.CreatorListApi.as_view(), name="store-creators"),
    path(
        "store/creators/<str:username>",
        views.CreatorDetailApi.as_view(),
        name="store-creator-detail",
    ),
    path(
        "store/creators/<str:username>/avatar",
        views.CreatorAvatarApi.as_view(),
        name="store-creator-avatar",
    ),
    path("store/profile", views.ProfileApi.as_view(), name="store-profile"),
    path("store/profile/avatar", views.ProfileAvatarApi.as_view(), name="store-profile-avatar"),
    path("store/submissions", views.SubmissionListApi.as_view(), name="store-submissions"),
    path(
        "store/submissions/<str:version_id>",
        views.SubmissionDetailApi.as_view(),
        name="store-submission-detail",
    ),
    path(
        "admin/store/submissions",
        views.AdminSubmissionListApi.as_view(),
        name="admin-store-submissions",
    ),
    path(
        "admin/store/submissions/<str:version_id>/review",
        views.AdminSubmissionReviewApi.as_view(),
        name="admin-store-submission-review",
    ),
    path("library/agents", views.LibraryAgentListApi.as_view(), name="library-agents"),
    path(
        "library/agents/<str:library_agent_id>",
        views.LibraryAgentDetailApi.as_view(),
        name="library-agent-detail",
    ),
    path(
        "library/agents/<str:library_agent_id>/fork",
        views.LibraryAgentForkApi.as_view(),
        name="library-agent-fork",
    ),
    path(
        "library/agents/<str:library_agent_id>/execute",
        views.LibraryAgentExecuteApi.as_view(),
        name="library-agent-execute",
    ),
]
