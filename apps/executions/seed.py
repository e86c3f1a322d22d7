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
from apps.executions.benchmark import chain_graph
from apps.executions.models import (
    ExecutionStatus,
    GraphExecution,
    NodeExecution,
    NodeExecutionOutput,
)
from apps.executions.tally import run_tally_fold
from apps.graphs import services as graph_services
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


def _graph(user: User, name: str, nodes: int) -> GraphVersion:
    payload = chain_graph(max(nodes - 2, 0))
    spec = graph_spec_from_payload(payload["nodes"], payload["links"])
    return graph_services.graph_create(user=user, name=name, spec=spec)


def seeded_user() -> User | None:
    return User.objects.filter(email=SEED_EMAIL).first()


def _concrete(model: type[Model], name: str) -> "Field[Any, Any]":
    field = model._meta.get_field(name)
    assert isinstance(field, Field), f"{name} is not a field of {model.__name__}"
    assert field.column, f"{name} is not a column of {model.__name__}"
    return field


class _Writer:
    """Rows of one table, COPY'd on PostgreSQL, inserted in batches of prepared values
    elsewhere."""

    def __init__(self, model: type[Model], fields: list[str]) -> None:
        self.fields = [_concrete(model, name) for name in fields]
        self.table = model._meta.db_table
        self.count = 0

    def _sql(self, verb: str) -> str:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(field.column)) for field in self.fields)
        if verb == "COPY":
            return f"COPY {quote(self.table)} ({columns}) FROM STDIN"
        marks = ", ".join(["%s"] * len(self.fields))
        return f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({marks})"  # noqa: S608 - names from the model

    def write(self, rows: Iterator[tuple[Any, ...]]) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor, cursor.cursor.copy(self._sql("COPY")) as copy:
                for row in rows:
                    copy.write_row(row)
                    self.count += 1
            return
        batch: list[list[Any]] = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append(self._prepared(row))
                if len(batch) >= BATCH:
                    cursor.executemany(self._sql("INSERT"), batch)
                    self.count, batch = self.count + len(batch), []
            if batch:
                cursor.executemany(self._sql("INSERT"), batch)
                self.count += len(batch)

    def _prepared(self, row: tuple[Any, ...]) -> list[Any]:
        return [
            field.get_db_prep_save(
                json.loads(value) if field.get_internal_type() == "JSONField" else value,
                connection,
            )
            for field, value in zip(self.fields, row, strict=True)
        ]


_RUN_FIELDS = [
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
    "event_seq",
]
_NODE_FIELDS = [
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
]
_OUTPUT_FIELDS = ["node_execution", "position", "pin", "value", "created_at"]


@dataclass
class _Plan:
    """One seeded run, as its node executions are made from it."""

    run_id: uuid.UUID
    graph_id: uuid.UUID
    status: str
    created: datetime.datetime


class _Seeder:
    """The history of one new user: graphs, then runs, node executions and outputs."""

    def __init__(self, *, user: User, days: int, seed: int) -> None:
        self.user = user
        self.rng = random.Random(seed)  # noqa: S311 - sample data, reproducible on purpose
        self.now = timezone.now()
        self.span = datetime.timedelta(days=days).total_seconds()
        self.statuses = [status for status, weight in STATUS_WEIGHTS for _ in range(weight)]
        self.nodes_of: dict[uuid.UUID, list[int]] = {}  # node row ids by graph, in order
        self.plans: list[_Plan] = []
        self.outputs: list[tuple[Any, ...]] = []

    def graph(self, name: str, nodes: int) -> GraphVersion:
        version = _graph(self.user, name, nodes)
        ids = version.nodes.order_by("position").values_list("id", flat=True)
        self.nodes_of[version.graph_id] = list(ids)
        return version

    def run_rows(
        self, runs: int, versions: list[GraphVersion], big: GraphVersion, big_id: uuid.UUID
    ) -> Iterator[tuple[Any, ...]]:
        for index in range(runs):
            if index == 0:
                run_id, version, status = big_id, big, ExecutionStatus.COMPLETED.value
                created = self.now - datetime.timedelta(minutes=5)
            else:
                run_id, version = uuid.uuid4(), versions[index % len(versions)]
                status = self.rng.choice(self.statuses).value
                created = self.now - datetime.timedelta(seconds=self.rng.random() * self.span)
            self.plans.append(_Plan(run_id, version.graph_id, status, created))
            yield self._run_row(index, run_id, version, status, created)

    def _run_row(
        self,
        index: int,
        run_id: uuid.UUID,
        version: GraphVersion,
        status: str,
        created: datetime.datetime,
    ) -> tuple[Any, ...]:
        count = len(self.nodes_of[version.graph_id])
        wall = count * 0.0004 + self.rng.random() * 0.02
        stats = {"wall_time": round(wall, 6), "node_count": count, "cost": 0}
        completed = status == ExecutionStatus.COMPLETED
        return (
            run_id,
            version.graph_id,
            version.version,
            self.user.pk,
            status,
            json.dumps({"x": index}),
            "{}",
            json.dumps({"y": [index]} if completed else {}),
            json.dumps(stats),
            "" if completed else f"Seeded {status} run.",
            status in _NODE_FAILING,  # has_errors: its last node failed
            False,
            created,
            created + datetime.timedelta(milliseconds=2),
            created + datetime.timedelta(seconds=0.005 + wall),
            1,
            created,
            "",
            0,  # event_seq: a seeded run has no stored events to replay
        )

    def node_rows(self) -> Iterator[tuple[Any, ...]]:
        """Each plan's node executions in sequence; completed ones leave an output row."""
        for plan in self.plans:
            nodes = self.nodes_of[plan.graph_id]
            at = plan.created + datetime.timedelta(milliseconds=3)
            for sequence, node_id in enumerate(nodes):
                status = "completed"
                if plan.status != "completed" and sequence == len(nodes) - 1:
                    status = "failed" if plan.status in _NODE_FAILING else plan.status
                exec_id, ended = uuid.uuid4(), at + datetime.timedelta(microseconds=400)
                if status == "completed":
                    self.outputs.append((exec_id, 0, "output", "1", ended))
                error = "" if status == "completed" else "Seeded error."
                yield (
                    *(exec_id, plan.run_id, node_id, sequence + 1, status, '{"input": 1}', error),
                    *('{"wall_time": 0.0004}', at, at, ended),
                )
                at = ended


_NODE_FAILING = ("failed", "timeout")  # seeded statuses whose run's last node failed


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
    big_id = uuid.uuid4()
    with transaction.atomic():
        user = User.objects.create_user(SEED_EMAIL, uuid.uuid4().hex, name="History")
        seeder = _Seeder(user=user, days=days, seed=seed)
        log(f"graphs: {graphs} of {per_run} nodes and one of {big_run_nodes}")
        versions = [seeder.graph(f"History agent {n + 1}", per_run) for n in range(graphs)]
        big = seeder.graph("History chain of 1,000", big_run_nodes)
        log(f"runs: {runs}")
        _Writer(GraphExecution, _RUN_FIELDS).write(seeder.run_rows(runs, versions, big, big_id))
        log("node executions")
        nodes_writer = _Writer(NodeExecution, _NODE_FIELDS)
        nodes_writer.write(seeder.node_rows())
        log(f"outputs: {len(seeder.outputs)}")
        outputs_writer = _Writer(NodeExecutionOutput, _OUTPUT_FIELDS)
        outputs_writer.write(iter(seeder.outputs))
    log("run statistics")
    run_tally_fold()  # as beat would: the history is finished runs
    _vacuum(log)
    return SeedReport(
        user_email=SEED_EMAIL,
        graphs=graphs + 1,
        runs=runs,
        node_executions=nodes_writer.count,
        outputs=outputs_writer.count,
        big_run_id=str(big_id),
        seconds=round((timezone.now() - started).total_seconds(), 1),
    )


def _vacuum(log: Callable[[str], None]) -> None:
    """Fresh statistics for the planner (PostgreSQL, outside a transaction only)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    log("VACUUM (ANALYZE)")
    models = (GraphExecution, NodeExecution, NodeExecutionOutput, GraphVersion, Node)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) " + ", ".join(model._meta.db_table for model in models))


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
