from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.schedules import selectors
from apps.schedules.models import Schedule, ScheduleAttempt


class ScheduleCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    cron = serializers.CharField(max_length=200, help_text="minute hour day month weekday")
    graph_version = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    timezone = serializers.CharField(
        max_length=64, required=False, allow_null=True, help_text="IANA name; default: yours"
    )
    inputs = serializers.JSONField(required=False, default=dict)
    credentials_inputs = serializers.JSONField(required=False, default=dict)
    catch_up = serializers.ChoiceField(
        choices=Schedule.CatchUp.choices,
        required=False,
        default=Schedule.CatchUp.SKIP,
        help_text="firings missed while the scheduler was down: skip them, or run once",
    )


class ScheduleUpdateSerializer(serializers.Serializer):
    is_enabled = serializers.BooleanField(required=False, help_text="false pauses, true resumes")
    name = serializers.CharField(max_length=100, required=False)
    cron = serializers.CharField(max_length=200, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    catch_up = serializers.ChoiceField(choices=Schedule.CatchUp.choices, required=False)


class ScheduleSerializer(serializers.ModelSerializer):
    graph_id = serializers.UUIDField(read_only=True)
    is_enabled = serializers.BooleanField(read_only=True)
    next_run_time = serializers.SerializerMethodField(
        help_text="In the schedule's time zone; null while paused"
    )
    next_run_times = serializers.SerializerMethodField(
        help_text="The next 5 firing times in the schedule's time zone (DST-correct); "
        "empty while paused"
    )
    last_run_at = serializers.DateTimeField(source="periodic_task.last_run_at", read_only=True)
    run_count = serializers.IntegerField(source="periodic_task.total_run_count", read_only=True)

    class Meta:
        model = Schedule
        fields = [
            "id",
            "name",
            "graph_id",
            "graph_version",
            "cron",
            "timezone",
            "inputs",
            "is_enabled",
            "next_run_time",
            "next_run_times",
            "catch_up",
            "last_run_at",
            "run_count",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_run_time(self, schedule: Schedule) -> str | None:
        moment = selectors.schedule_next_run_time(schedule)
        return moment.isoformat() if moment else None

    @extend_schema_field(serializers.ListField(child=serializers.DateTimeField()))
    def get_next_run_times(self, schedule: Schedule) -> list[str]:
        return [moment.isoformat() for moment in selectors.schedule_next_run_times(schedule)]


class ScheduleAttemptSerializer(serializers.ModelSerializer):
    """A row of the firing ledger (SPEC §17)."""

    class Meta:
        model = ScheduleAttempt
        fields = [
            "id",
            "firing_time",
            "status",
            "graph_execution_id",
            "reason",
            "error_code",
            "error_message",
            "fired_at",
        ]


class ScheduleDetailSerializer(ScheduleSerializer):
    recent_attempts = serializers.SerializerMethodField()

    class Meta(ScheduleSerializer.Meta):
        fields = [*ScheduleSerializer.Meta.fields, "recent_attempts"]

    def get_recent_attempts(self, schedule: Schedule) -> ScheduleAttemptSerializer(many=True):  # type: ignore[valid-type]
        return ScheduleAttemptSerializer(
            selectors.schedule_attempt_list(schedule=schedule), many=True
        ).data
