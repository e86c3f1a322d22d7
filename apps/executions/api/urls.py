from django.urls import path

from apps.executions.api import reviews, views

urlpatterns = [
    path("blocks/<str:block_id>/execute", views.BlockExecuteApi.as_view(), name="block-execute"),
    path("graphs/<str:graph_id>/execute", views.GraphExecuteApi.as_view(), name="graph-execute"),
    path(
        "graphs/<str:graph_id>/execute/<int:version>",
        views.GraphExecuteVersionApi.as_view(),
        name="graph-execute-version",
    ),
    path(
        "graphs/<str:graph_id>/executions",
        views.GraphExecutionListApi.as_view(),
        name="graph-executions",
    ),
    path(
        "graphs/<str:graph_id>/executions/<str:graph_exec_id>/stop",
        views.GraphExecutionStopApi.as_view(),
        name="graph-execution-stop",
    ),
    path(
        "graphs/<str:graph_id>/executions/<str:graph_exec_id>/share",
        views.ExecutionShareApi.as_view(),
        name="graph-execution-share",
    ),
    path("executions", views.ExecutionListApi.as_view(), name="execution-list"),
    path("executions/<str:graph_exec_id>", views.ExecutionDetailApi.as_view(), name="execution"),
    path(
        "executions/<str:graph_exec_id>/retry",
        views.ExecutionRetryApi.as_view(),
        name="execution-retry",
    ),
    path(
        "executions/<str:graph_exec_id>/results",
        views.ExecutionResultsApi.as_view(),
        name="execution-results",
    ),
    path(
        "presets/<str:preset_id>/execute", views.PresetExecuteApi.as_view(), name="preset-execute"
    ),
    path("reviews", reviews.ReviewListApi.as_view(), name="review-list"),
    path("reviews/<str:review_id>", reviews.ReviewDecideApi.as_view(), name="review-decide"),
    path(
        "public/shared/<str:share_token>",
        views.SharedExecutionApi.as_view(),
        name="shared-execution",
    ),
]
