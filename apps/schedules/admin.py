"""Staff view of agent schedules. django-celery-beat's own admin (Periodic tasks) shows the beat
side, housekeeping included; this one shows whose schedule it is and lets staff pause, resume and
re-time it through the same service as the API."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.common.exceptions import ValidationFailed
from apps.schedules import cron, selectors, services
from apps.schedules.models import Schedule, ScheduleAttempt


class ScheduleForm(forms.ModelForm):
    is_enabled = forms.BooleanField(required=False, label="Enabled")

    class Meta:
        model = Schedule
        fields = ["name", "cron", "timezone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["is_enabled"].initial = self.instance.is_enabled

    def _checked(self, field: str, check: object) -> str:
        value = self.cleaned_data[field]
        try:
            check(value)  # type: ignore[operator]
        except ValidationFailed as error:
            raise forms.ValidationError(error.message) from None
        return value

    def clean_cron(self) -> str:
        return self._checked("cron", cron.cron_fields)

    def clean_timezone(self) -> str:
        return self._checked("timezone", cron.check_timezone)


class ScheduleAttemptInline(admin.TabularInline):
    model = ScheduleAttempt
    fields = ("fired_at", "status", "graph_execution_id", "error_code", "error_message")
    readonly_fields = fields
    ordering = ["-fired_at"]
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = ["name", "user", "graph", "cron", "timezone", "enabled", "next_run"]
    list_select_related = ["user", "periodic_task"]
    list_filter = ["periodic_task__enabled", "timezone"]
    search_fields = ["name", "user__email", "graph__id"]
    readonly_fields = ["user", "graph", "graph_version", "inputs", "periodic_task", "created_at"]
    inlines = [ScheduleAttemptInline]
    actions = ["pause", "resume"]

    @admin.display(boolean=True, description="enabled")
    def enabled(self, schedule: Schedule) -> bool:
        return schedule.is_enabled

    @admin.display(description="next run (its time zone)")
    def next_run(self, schedule: Schedule) -> str:
        moment = selectors.schedule_next_run_time(schedule)
        return moment.strftime("%Y-%m-%d %H:%M %Z") if moment else "paused"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created by users, validated against their graph and inputs

    def save_model(self, request: HttpRequest, obj: Schedule, form: ScheduleForm, change: bool):
        services.schedule_update(
            schedule=obj,
            name=form.cleaned_data["name"],
            cron=form.cleaned_data["cron"],
            timezone=form.cleaned_data["timezone"],
            is_enabled=form.cleaned_data["is_enabled"],
        )

    def _set_enabled(self, queryset: QuerySet[Schedule], enabled: bool) -> None:
        for schedule in queryset:
            services.schedule_update(schedule=schedule, is_enabled=enabled)

    @admin.action(description="Pause the selected schedules")
    def pause(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        self._set_enabled(queryset, False)

    @admin.action(description="Resume the selected schedules")
    def resume(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        self._set_enabled(queryset, True)
