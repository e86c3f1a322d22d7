"""Agent schedules (SPEC §11): a run of a graph version on a cron in a time zone.

Beat fires django-celery-beat `PeriodicTask`s; each Schedule owns one (its CrontabSchedule
carries the cron and the time zone) and is the user-facing record: who, which graph version,
which inputs. `cron` and `timezone` are kept here too, as the user wrote them.
"""

import uuid

from django.conf import settings
from django.db import models
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
    """One firing: the run it started, or why it could not start one."""

    class Status(models.TextChoices):
        STARTED = "started"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="attempts")
    # The beat message's id: a redelivered message finds its attempt and starts nothing.
    task_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    graph_execution_id = models.UUIDField(null=True, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["schedule", "-fired_at"])]

    def __str__(self) -> str:
        return f"{self.schedule_id} {self.status} at {self.fired_at:%Y-%m-%d %H:%M}"
