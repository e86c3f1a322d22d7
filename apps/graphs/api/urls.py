from django.urls import path

from apps.graphs.api import views

urlpatterns = [
    path("blocks", views.BlockListApi.as_view(), name="block-list"),
    path("blocks/<str:block_id>", views.BlockDetailApi.as_view(), name="block-detail"),
    # `blocks/<id>/execute` is routed to apps.executions (it charges credits).
    path("graphs", views.GraphListApi.as_view(), name="graph-list"),
    path("graphs/import", views.GraphImportApi.as_view(), name="graph-import"),
    path("graphs/<str:graph_id>", views.GraphDetailApi.as_view(), name="graph-detail"),
    path(
        "graphs/<str:graph_id>/versions", views.GraphVersionListApi.as_view(), name="graph-versions"
    ),
    path(
        "graphs/<str:graph_id>/versions/active",
        views.GraphActiveVersionApi.as_view(),
        name="graph-active-version",
    ),
    path(
        "graphs/<str:graph_id>/versions/<int:version>",
        views.GraphVersionDetailApi.as_view(),
        name="graph-version-detail",
    ),
    path("graphs/<str:graph_id>/export", views.GraphExportApi.as_view(), name="graph-export"),
    path("graphs/<str:graph_id>/fork", views.GraphForkApi.as_view(), name="graph-fork"),
    path("graphs/<str:graph_id>/analysis", views.GraphAnalysisApi.as_view(), name="graph-analysis"),
    path(
        "graphs/<str:graph_id>/run-check", views.GraphRunCheckApi.as_view(), name="graph-run-check"
    ),
    path(
        "graphs/<str:graph_id>/cost-estimate",
        views.GraphCostEstimateApi.as_view(),
        name="graph-cost-estimate",
    ),
    path("presets", views.PresetListApi.as_view(), name="preset-list"),
    path("presets/<str:preset_id>", views.PresetDetailApi.as_view(), name="preset-detail"),
]
