"""Graph and node executions (SPEC §3, §6). The rows are the truth about every run: a worker's
memory can always be rebuilt from them."""

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q


class ExecutionStatus(models.TextChoices):
    INCOMPLETE = "incomplete"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    REVIEW = "review"  # waiting for a person (SPEC §15): no worker, lease or task held


TERMINAL_STATUSES = (
    ExecutionStatus.COMPLETED,
    ExecutionStatus.FAILED,
    ExecutionStatus.CANCELLED,
    ExecutionStatus.TIMEOUT,
)
# SPEC §6: a transition to the key is allowed only from these statuses (guarded UPDATEs).
ALLOWED_SOURCES: dict[str, tuple[str, ...]] = {
    ExecutionStatus.QUEUED: (ExecutionStatus.INCOMPLETE, ExecutionStatus.REVIEW),
    ExecutionStatus.RUNNING: (ExecutionStatus.INCOMPLETE, ExecutionStatus.QUEUED),
    ExecutionStatus.COMPLETED: (ExecutionStatus.RUNNING,),
    ExecutionStatus.FAILED: (
        ExecutionStatus.INCOMPLETE,
        ExecutionStatus.QUEUED,
        ExecutionStatus.RUNNING,
    ),
    ExecutionStatus.CANCELLED: (
        ExecutionStatus.INCOMPLETE,
        ExecutionStatus.QUEUED,
        ExecutionStatus.RUNNING,
        ExecutionStatus.REVIEW,
    ),
    ExecutionStatus.TIMEOUT: (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING),
    ExecutionStatus.REVIEW: (ExecutionStatus.RUNNING,),
}


class GraphExecution(models.Model):
    Status = ExecutionStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="executions")
    graph_version = models.PositiveIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="graph_executions"
    )
    status = models.CharField(max_length=16, choices=ExecutionStatus.choices)
    inputs = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    credentials_inputs = models.JSONField(default=dict)
    outputs = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    stats = models.JSONField(default=dict)
    error_message = models.TextField(blank=True)
    # SPEC §17: some node failed (the run may still be `completed`: "completed with errors").
    # Set when the run ends, by apps.executions.outcome.
    has_errors = models.BooleanField(default=False)
    # SPEC §17: the most credits this run (and its sub-agent runs) may use (null: no cap); the
    # worker refuses a charge past it (apps.executions.worker.ports.RunBudgets).
    max_credits = models.PositiveIntegerField(null=True, blank=True)
    preset = models.ForeignKey(
        "graphs.Preset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    # SPEC §17: the finished run this one retries (its completed node executions were taken).
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    is_deleted = models.BooleanField(default=False)
    share_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    shared_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Which worker runs it, until when (renewed while running), and how often it was taken.
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # SPEC §17: the `seq` of the run's last event (ExecutionEvent), raised by the transaction that
    # records events (apps.executions.events.events_record).
    event_seq = models.PositiveIntegerField(default=0)
    # Counted in its graph's GraphRunTally (apps.executions.tally): a finished run, folded once.
    tallied = models.BooleanField(default=False, db_default=False)

    class Meta:
        indexes = [
            models.Index(fields=["user", "status", "-created_at"], name="ge_user_status_created"),
            models.Index(fields=["graph", "user", "-created_at"], name="ge_graph_user_created"),
            models.Index(
                fields=["status", "lease_expires_at"],
                condition=Q(status__in=["queued", "running"]),
                name="ge_live_idx",
            ),
            models.Index(fields=["ended_at"], name="ge_ended_idx"),
            # The runs list's `has_errors=true` (SPEC §17): few rows, newest first.
            models.Index(
                fields=["user", "-created_at"],
                condition=Q(has_errors=True),
                name="ge_user_errors_idx",
            ),
            # The run lists (newest first, keyset on (created_at, id)) and their capped counts.
            models.Index(
                fields=["user", "-created_at", "-id"],
                condition=Q(is_deleted=False),
                name="ge_user_live_created",
            ),
            # A graph's runs and their counts, its analytics: index-only.
            models.Index(
                fields=["user", "graph", "status", "created_at"],
                condition=Q(is_deleted=False),
                name="ge_user_graph_status_live",
            ),
            # The graph list's statistics: the runs not yet in their GraphRunTally (few).
            models.Index(
                fields=["user", "graph"],
                condition=Q(is_deleted=False, tallied=False),
                name="ge_untallied",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def can_retry(self) -> bool:
        """Whether a retry from failure (SPEC §17) may start from it: a finished run, not a
        sub-agent's, in which something failed, was cancelled or never ran."""
        return (
            self.is_terminal
            and self.parent_id is None
            and (self.status != ExecutionStatus.COMPLETED or self.has_errors)
        )

    @property
    def completed_with_errors(self) -> bool:
        return self.status == ExecutionStatus.COMPLETED and self.has_errors


class GraphRunTally(models.Model):
    """A user's finished runs of a graph, counted (apps.executions.tally): the graph list's run
    statistics read this row and the few runs not yet folded into it, whatever the history."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    graph = models.ForeignKey("graphs.Graph", on_delete=models.CASCADE, related_name="+")
    runs = models.PositiveIntegerField(default=0)
    finished = models.PositiveIntegerField(default=0)  # completed, failed or timed out
    completed = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "graph"], name="run_tally_user_graph")
        ]

    def __str__(self) -> str:
        return f"{self.graph_id}: {self.runs} runs"


class ExecutionEvent(models.Model):
    """One event of a run as it was sent (SPEC §17): `seq` counts 1, 2, … per run, with no gap;
    `/ws` replays these to a subscriber that gives `since_seq`."""

    id = models.BigAutoField(primary_key=True)
    graph_execution = models.ForeignKey(
        GraphExecution, on_delete=models.CASCADE, related_name="events"
    )
    seq = models.PositiveIntegerField()
    method = models.CharField(max_length=40)
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["graph_execution", "seq"], name="exec_event_seq_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.graph_execution_id} #{self.seq} {self.method}"


class NodeExecution(models.Model):
    Status = ExecutionStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    graph_execution = models.ForeignKey(
        GraphExecution, on_delete=models.CASCADE, related_name="node_executions"
    )
    node = models.ForeignKey("graphs.Node", on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=ExecutionStatus.choices)
    input_data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    error = models.TextField(blank=True)
    stats = models.JSONField(default=dict)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["graph_execution_id", "sequence"]
        indexes = [models.Index(fields=["graph_execution", "sequence"], name="ne_exec_seq")]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class NodeExecutionOutput(models.Model):
    """One value a node execution yielded, in yield order."""

    node_execution = models.ForeignKey(
        NodeExecution, on_delete=models.CASCADE, related_name="outputs"
    )
    position = models.PositiveIntegerField()
    pin = models.CharField(max_length=200)
    value = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["node_execution_id", "position"]

    def __str__(self) -> str:
        return self.pin


class Review(models.Model):
    """A Human Review node's request to a person (SPEC §15), one per node execution. The node
    execution and its run wait in `review` until it is decided (or times out, or the run is
    stopped); the decision resumes the run through the normal enqueue path."""

    class Status(models.TextChoices):
        WAITING = "waiting"
        APPROVED = "approved"
        REJECTED = "rejected"
        TIMED_OUT = "timed_out"
        CANCELLED = "cancelled"  # the run was stopped

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    graph_execution = models.ForeignKey(
        GraphExecution, on_delete=models.CASCADE, related_name="reviews"
    )
    # Not a foreign key: the block files its review before the engine's next commit inserts
    # the node execution's row.
    node_exec_id = models.UUIDField(unique=True)
    node_id = models.CharField(max_length=100)  # the node's key in the graph
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    data = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    message = models.TextField(blank=True)
    editable = models.BooleanField(default=True)
    # The JSON Schema edited data must satisfy (the node's `data_schema`), if any.
    data_schema = models.JSONField(null=True, blank=True)
    expires_at = models.DateTimeField()
    decided_data = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    decision_message = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "status", "-created_at"], name="review_user_status"),
            models.Index(
                fields=["expires_at"], condition=Q(status="waiting"), name="review_waiting_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a user sent with a run start (SPEC §17), for 24 hours: the first
    request's body hash and, once it answered, its response. Unique per (user, key): of any
    number of concurrent requests with one key exactly one inserts the row and starts a run
    (apps.executions.idempotency)."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"  # the first request is still starting its run
        DONE = "done"  # its response is stored and answered again

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # sha256 of method, path, query and body
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    graph_execution = models.ForeignKey(
        GraphExecution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_uniq")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"
