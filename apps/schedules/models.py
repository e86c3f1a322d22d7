"""Agent schedules (SPEC §11): a run of a graph version on a cron in a time zone.

Beat fires django-celery-beat `PeriodicTask`s; each Schedule owns one (its CrontabSchedule
carries the cron and the time zone) and is the user-facing record: who, which graph version,
which inputs. `cron` and `timezone` are kept here too, as the user wrote them.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone
from django_celery_beat.models import PeriodicTask


class Schedule(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedules"
    )
    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="schedules")
    graph_version = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    cron = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64)
    inputs = models.JSONField(default=dict, blank=True)
    credentials_inputs = models.JSONField(default=dict, blank=True)
    periodic_task = models.OneToOneField(
        PeriodicTask, on_delete=models.CASCADE, related_name="agent_schedule"
    )

    class CatchUp(models.TextChoices):
        SKIP = "skip"  # firings missed while beat was down are recorded `skipped`
        RUN_ONCE = "run_once"  # ...and the latest of them runs once when beat is back

    catch_up = models.CharField(max_length=10, choices=CatchUp.choices, default=CatchUp.SKIP)
    # Firing times before this are not owed: set at creation, resume and re-timing, so a pause
    # is not mistaken for beat being down (SPEC §17).
    fires_from = models.DateTimeField(default=django_timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["user", "graph", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.cron} {self.timezone})"

    @property
    def is_enabled(self) -> bool:
        return self.periodic_task.enabled


class ScheduleAttempt(models.Model):
    """The firing ledger (SPEC §17): one row per firing time of a schedule — the run it started
    (`fired`), why it started none (`failed`, `skipped`: missed while beat was down) — plus a
    `deduplicated` row for every further delivery of a firing time that already has its row.
    One firing time makes at most one run: (schedule, firing_time) is unique among the rows
    that are not `deduplicated`."""

    class Status(models.TextChoices):
        FIRED = "fired"
        SKIPPED = "skipped"
        DEDUPLICATED = "deduplicated"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="attempts")
    # The beat message's id (a redelivered message has the same one); empty for the firing
    # times a catch-up records.
    task_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices)
    # The cron's firing time this row is about (null only on rows older than the ledger).
    firing_time = models.DateTimeField(null=True, blank=True)
    graph_execution_id = models.UUIDField(null=True, blank=True)
    reason = models.TextField(blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    fired_at = models.DateTimeField(auto_now_add=True)  # when this row was written

    class Meta:
        indexes = [
            models.Index(fields=["schedule", "-fired_at"]),
            models.Index(fields=["schedule", "-firing_time"], name="sched_attempt_firing_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "firing_time"],
                condition=~Q(status="deduplicated"),
                name="schedule_one_row_per_firing_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} {self.status} at {self.fired_at:%Y-%m-%d %H:%M}"
