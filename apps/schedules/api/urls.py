from django.urls import path

from apps.schedules.api import views

urlpatterns = [
    path(
        "graphs/<str:graph_id>/schedules",
        views.GraphScheduleListApi.as_view(),
        name="graph-schedules",
    ),
    path("schedules", views.ScheduleListApi.as_view(), name="schedule-list"),
    path("schedules/<str:schedule_id>", views.ScheduleDetailApi.as_view(), name="schedule"),
]
