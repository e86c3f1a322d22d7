"""A run history at scale for measuring the list endpoints (`manage.py seed_history`).

One user, graphs that are real (created through the graph services, so every page can draw
them), and runs spread over the last `days` days with their node executions and outputs,
written fast: COPY on PostgreSQL, batched inserts elsewhere. One run has `big_run_nodes` node
executions (its graph is a chain that long). Every run is finished (completed, failed,
cancelled or timed out), so no worker or watchdog ever picks one up.
"""

import datetime
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Model
from django.utils import timezone

from apps.common.exceptions import Conflict
from apps.executions.models import (
    ExecutionStatus,
    GraphExecution,
    NodeExecution,
    NodeExecutionOutput,
)
from apps.graphs import services as graph_services
from apps.graphs.blocks.library.basic import AgentInputBlock, AgentOutputBlock, StoreValueBlock
from apps.graphs.compile import graph_spec_from_payload
from apps.graphs.models import GraphVersion, Node
from apps.users.models import User

SEED_EMAIL = "history@benchmark.invalid"
BATCH = 5000
# Terminal statuses of the seeded runs and how often each occurs.
STATUS_WEIGHTS = (
    (ExecutionStatus.COMPLETED, 90),
    (ExecutionStatus.FAILED, 6),
    (ExecutionStatus.CANCELLED, 3),
    (ExecutionStatus.TIMEOUT, 1),
)


@dataclass
class SeedReport:
    user_email: str
    graphs: int
    runs: int
    node_executions: int
    outputs: int
    big_run_id: str
    seconds: float


def chain_payload(length: int) -> dict[str, Any]:
    """input → `length` Store Value nodes → output, as `POST /api/graphs` takes it."""
    nodes = [{"id": "in", "block_id": AgentInputBlock.id, "input_default": {"name": "x"}}]
    links = []
    previous, pin = "in", "result"
    for index in range(length):
        key = f"n{index}"
        nodes.append({"id": key, "block_id": StoreValueBlock.id})
        links.append(
            {"source_id": previous, "source_name": pin, "sink_id": key, "sink_name": "input"}
        )
        previous, pin = key, "output"
    nodes.append({"id": "out", "block_id": AgentOutputBlock.id, "input_default": {"name": "y"}})
    links.append(
        {"source_id": previous, "source_name": pin, "sink_id": "out", "sink_name": "value"}
    )
    return {"nodes": nodes, "links": links}


def _graph(user: User, name: str, nodes: int) -> GraphVersion:
    payload = chain_payload(max(nodes - 2, 0))
    spec = graph_spec_from_payload(payload["nodes"], payload["links"])
    return graph_services.graph_create(user=user, name=name, spec=spec)


def seeded_user() -> User | None:
    return User.objects.filter(email=SEED_EMAIL).first()


class _Writer:
    """Rows of one table, COPY'd on PostgreSQL, inserted in batches of prepared values
    elsewhere."""

    def __init__(self, model: type[Model], fields: list[str]) -> None:
        self.model = model
        self.fields: list[Field] = []
        self.columns: list[str] = []
        for name in fields:
            field = model._meta.get_field(name)
            if not isinstance(field, Field) or field.column is None:
                raise ValueError(f"{model.__name__}.{name} is not a column.")
            self.fields.append(field)
            self.columns.append(field.column)
        self.table = model._meta.db_table
        self.count = 0

    def write(self, rows: Iterator[tuple]) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in self.columns)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                sql = f"COPY {quote(self.table)} ({columns}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
                        self.count += 1
            return
        marks = ", ".join(["%s"] * len(self.columns))
        sql = f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({marks})"  # noqa: S608 - names from the model
        batch: list[list[Any]] = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append(
                    [
                        field.get_db_prep_save(
                            json.loads(value)
                            if field.get_internal_type() == "JSONField"
                            else value,
                            connection,
                        )
                        for field, value in zip(self.fields, row, strict=True)
                    ]
                )
                if len(batch) >= BATCH:
                    cursor.executemany(sql, batch)
                    self.count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                self.count += len(batch)


def seed_history(
    *,
    runs: int = 100_000,
    node_executions: int = 1_000_000,
    days: int = 30,
    graphs: int = 20,
    big_run_nodes: int = 1000,
    seed: int = 23,
    log: Callable[[str], None] = lambda text: None,
) -> SeedReport:
    """Seed once: a second call finds the user and raises Conflict (see `seed_history_reset`)."""
    if runs < 2 or graphs < 1 or days < 1 or big_run_nodes < 2:
        raise ValueError("runs ≥ 2, graphs ≥ 1, days ≥ 1 and big_run_nodes ≥ 2 are needed")
    per_run = max(2, round((node_executions - big_run_nodes) / (runs - 1)))
    started = timezone.now()
    existing = seeded_user()
    if existing is not None:
        raise Conflict(
            f"{SEED_EMAIL} is already seeded ({existing.graph_executions.count()} runs);"
            " run seed_history --reset to delete that history first."
        )
    rng = random.Random(seed)  # noqa: S311 - sample data, reproducible on purpose
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.create_user(SEED_EMAIL, uuid.uuid4().hex, name="History")
        log(f"graphs: {graphs} of {per_run} nodes and one of {big_run_nodes}")
        versions = [_graph(user, f"History agent {n + 1}", per_run) for n in range(graphs)]
        big = _graph(user, "History chain of 1,000", big_run_nodes)
        nodes_of = {
            version.graph_id: list(version.nodes.order_by("position").values_list("id", flat=True))
            for version in [*versions, big]
        }
        statuses = [status for status, weight in STATUS_WEIGHTS for _ in range(weight)]
        span = datetime.timedelta(days=days).total_seconds()
        run_rows: list[tuple] = []
        # (run id, graph id, status, created_at): what the node executions are made from
        plans: list[tuple[uuid.UUID, uuid.UUID, str, datetime.datetime]] = []
        big_id = uuid.uuid4()
        for index in range(runs):
            if index == 0:
                run_id, version, status = big_id, big, ExecutionStatus.COMPLETED.value
                created = now - datetime.timedelta(minutes=5)
            else:
                run_id, version = uuid.uuid4(), versions[index % graphs]
                status = rng.choice(statuses).value
                created = now - datetime.timedelta(seconds=rng.random() * span)
            count = len(nodes_of[version.graph_id])
            wall = count * 0.0004 + rng.random() * 0.02
            ended = created + datetime.timedelta(seconds=0.005 + wall)
            stats = {"wall_time": round(wall, 6), "node_count": count, "cost": 0}
            error = "" if status == "completed" else f"Seeded {status} run."
            outputs = {"y": [index]} if status == "completed" else {}
            run_rows.append(
                (
                    run_id,
                    version.graph_id,
                    version.version,
                    user.pk,
                    status,
                    json.dumps({"x": index}),
                    "{}",
                    json.dumps(outputs),
                    json.dumps(stats),
                    error,
                    status in ("failed", "timeout"),  # its last node failed
                    False,
                    created,
                    created + datetime.timedelta(milliseconds=2),
                    ended,
                    1,
                    created,
                    "",
                )
            )
            plans.append((run_id, version.graph_id, status, created))
        log(f"runs: {runs}")
        _Writer(
            GraphExecution,
            [
                "id",
                "graph",
                "graph_version",
                "user",
                "status",
                "inputs",
                "credentials_inputs",
                "outputs",
                "stats",
                "error_message",
                "has_errors",
                "is_deleted",
                "created_at",
                "started_at",
                "ended_at",
                "attempts",
                "enqueued_at",
                "lease_owner",
            ],
        ).write(iter(run_rows))
        del run_rows
        output_rows: list[tuple] = []

        def node_rows() -> Iterator[tuple]:
            for run_id, graph_id, status, created in plans:
                nodes = nodes_of[graph_id]
                last = len(nodes) - 1
                at = created + datetime.timedelta(milliseconds=3)
                for sequence, node_id in enumerate(nodes):
                    node_status = "completed"
                    if status != "completed" and sequence == last:
                        node_status = "failed" if status in ("failed", "timeout") else status
                    exec_id = uuid.uuid4()
                    ended = at + datetime.timedelta(microseconds=400)
                    if node_status == "completed":
                        output_rows.append((exec_id, 0, "output", "1", ended))
                    yield (
                        exec_id,
                        run_id,
                        node_id,
                        sequence + 1,
                        node_status,
                        '{"input": 1}',
                        "" if node_status == "completed" else "Seeded error.",
                        '{"wall_time": 0.0004}',
                        at,
                        at,
                        ended,
                    )
                    at = ended

        log("node executions")
        nodes_writer = _Writer(
            NodeExecution,
            [
                "id",
                "graph_execution",
                "node",
                "sequence",
                "status",
                "input_data",
                "error",
                "stats",
                "queued_at",
                "started_at",
                "ended_at",
            ],
        )
        nodes_writer.write(node_rows())
        log(f"outputs: {len(output_rows)}")
        outputs_writer = _Writer(
            NodeExecutionOutput, ["node_execution", "position", "pin", "value", "created_at"]
        )
        outputs_writer.write(iter(output_rows))
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        log("VACUUM (ANALYZE)")
        with connection.cursor() as cursor:
            models = (GraphExecution, NodeExecution, NodeExecutionOutput, GraphVersion, Node)
            tables = [model._meta.db_table for model in models]
            cursor.execute("VACUUM (ANALYZE) " + ", ".join(tables))
    return SeedReport(
        user_email=SEED_EMAIL,
        graphs=graphs + 1,
        runs=runs,
        node_executions=nodes_writer.count,
        outputs=outputs_writer.count,
        big_run_id=str(big_id),
        seconds=round((timezone.now() - started).total_seconds(), 1),
    )


def seed_history_reset() -> int:
    """Delete the seeded user's history (and the user). Answers the number of runs deleted."""
    user = seeded_user()
    if user is None:
        return 0
    runs = GraphExecution.objects.filter(user=user)
    count = runs.count()
    with transaction.atomic():
        NodeExecutionOutput.objects.filter(node_execution__graph_execution__user=user)._raw_delete(
            connection.alias
        )
        NodeExecution.objects.filter(graph_execution__user=user)._raw_delete(connection.alias)
        runs._raw_delete(connection.alias)
        user.delete()
    return count
