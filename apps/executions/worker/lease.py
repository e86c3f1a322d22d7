"""Who runs a run: taking its lease (once per run, under the per-graph cap) and renewing it.

Plain SQL for the taking: it runs once per run, and building the ORM's queries cost more than
running them. Values are prepared by the model fields, so it stays portable to SQLite.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.common.rows import Columns
from apps.executions.models import ExecutionStatus, GraphExecution
from apps.executions.sql import execute_relaxed
from apps.graphs.runnable import Graph
from apps.users.models import User

logger = logging.getLogger(__name__)

Outcome = Literal["acquired", "capped", "leased", "gone"]

_EXECUTIONS = GraphExecution._meta.db_table
_EXECUTION_COLUMNS = Columns(GraphExecution, "e")
# With what a block's context needs of the user (the rest of the user loads if used).
_READ_EXECUTION = (
    f"SELECT {_EXECUTION_COLUMNS.sql}, u.timezone FROM {_EXECUTIONS} e"
    f" JOIN {User._meta.db_table} u ON u.id = e.user_id"
)
_SELECT_EXECUTION = f"{_READ_EXECUTION} WHERE e.id = %s"
# The same, locking the run's graph for the per-graph cap. NO KEY UPDATE: takings of one graph
# queue on each other, but a run being created for the graph meanwhile (its foreign key check
# takes KEY SHARE on the row) does not wait for them.
_SELECT_EXECUTION_LOCKING_GRAPH = (
    f"{_READ_EXECUTION} JOIN {Graph._meta.db_table} g ON g.id = e.graph_id"
    " WHERE e.id = %s FOR NO KEY UPDATE OF g"
)
# A resumed run keeps its first start: the time limit counts from there.
_TAKE_LEASE = (
    f"UPDATE {_EXECUTIONS} SET status = %s, lease_owner = %s, lease_expires_at = %s,"
    " attempts = attempts + 1, started_at = COALESCE(started_at, %s)"
    " WHERE id = %s AND status IN (%s, %s) AND (lease_expires_at IS NULL OR lease_expires_at < %s)"
)
# …under the cap: the other runs of the graph by its user that hold a lease. A statement of
# its own after the graph's lock is taken, so it sees every taking committed before.
_UNDER_CAP = (
    f" AND (SELECT COUNT(*) FROM {_EXECUTIONS} WHERE graph_id = %s AND user_id = %s"
    " AND status = %s AND lease_expires_at > %s AND id <> %s) < %s"
)


@dataclass(frozen=True)
class Taking:
    """One attempt at a run's lease, its values prepared for the database."""

    graph_exec_id: uuid.UUID
    owner: str
    now: datetime
    expires: datetime

    def db(self, value: Any) -> Any:
        field = GraphExecution._meta.get_field("lease_expires_at")
        return field.get_db_prep_value(value, connection)

    @property
    def pk(self) -> Any:
        return GraphExecution._meta.pk.get_db_prep_value(self.graph_exec_id, connection)


def lease_acquire(
    graph_exec_id: uuid.UUID, owner: str, *, enforce_cap: bool
) -> tuple[Outcome, GraphExecution | None]:
    """Take the run for this worker: "acquired" (with the run, its user's id and time zone
    loaded), "capped" (too many runs of this graph by its user are running; try later),
    "leased" (another worker holds an unexpired lease) or "gone" (finished)."""
    now = timezone.now()
    taking = Taking(
        graph_exec_id, owner, now, now + timedelta(seconds=settings.EXECUTION_LEASE_SECONDS)
    )
    # Acquisitions are serialised per graph so the cap cannot be overshot by a race (SQLite's
    # immediate transactions serialise them anyway).
    locks = enforce_cap and connection.features.has_select_for_update
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_SELECT_EXECUTION_LOCKING_GRAPH if locks else _SELECT_EXECUTION, [taking.pk])
        row = cursor.fetchone()
        if row is None:
            return "gone", None
        execution = _EXECUTION_COLUMNS.read(row[:-1])
        if execution.is_terminal:
            return "gone", None
        if not _take(cursor, taking, execution if enforce_cap else None):
            return _not_taken(graph_exec_id, now, capped=enforce_cap), None
        execution.user = User.from_db(
            connection.alias, ["id", "timezone"], [execution.user_id, row[-1]]
        )
    execution.status, execution.lease_owner = ExecutionStatus.RUNNING, owner
    execution.lease_expires_at = taking.expires
    execution.attempts += 1
    execution.started_at = execution.started_at or now
    return "acquired", execution


def _take(cursor: Any, taking: Taking, capped: GraphExecution | None) -> bool:
    """The guarded UPDATE that takes the lease of a queued run, or of a running one whose
    lease expired; with `capped` (the run), only while its user has fewer than
    EXECUTION_MAX_RUNNING_PER_GRAPH other runs of its graph going."""
    sql = _TAKE_LEASE
    params = [
        ExecutionStatus.RUNNING,
        taking.owner,
        taking.db(taking.expires),
        taking.db(taking.now),
        taking.pk,
        ExecutionStatus.QUEUED,
        ExecutionStatus.RUNNING,
        taking.db(taking.now),
    ]
    if capped is not None:
        meta = GraphExecution._meta
        sql += _UNDER_CAP
        params += [
            meta.get_field("graph").get_db_prep_value(capped.graph_id, connection),
            meta.get_field("user").get_db_prep_value(capped.user_id, connection),
            ExecutionStatus.RUNNING,
            taking.db(taking.now),
            taking.pk,
            settings.EXECUTION_MAX_RUNNING_PER_GRAPH,
        ]
    execute_relaxed(cursor, sql, params)  # the run's own progress: see execute_relaxed
    return bool(cursor.rowcount == 1)


def _not_taken(graph_exec_id: uuid.UUID, now: datetime, *, capped: bool) -> Outcome:
    """Why _take took nothing: another worker's unexpired lease ("leased"), the run no longer
    waiting ("gone"), or else the cap ("capped": it is still to be run)."""
    row = (
        GraphExecution.objects.filter(pk=graph_exec_id)
        .values_list("status", "lease_expires_at")
        .first()
    )
    if row is None:
        return "gone"
    status, expires = row
    if status == ExecutionStatus.RUNNING and expires is not None and expires >= now:
        return "leased"
    if capped and status in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING):
        return "capped"
    return "gone"


class Lease:
    """Ownership of a running execution, renewed by the engine's coordinator as it polls
    `is_lost` (every tick), so no thread is started per run.

    If a renewal finds the lease taken (this worker stalled past its expiry and another took the
    run over), the lease is lost and the engine stops without writing anything more.
    """

    def __init__(self, graph_exec_id: uuid.UUID, owner: str) -> None:
        self.graph_exec_id = graph_exec_id
        self.owner = owner
        self.seconds = settings.EXECUTION_LEASE_SECONDS
        self.lost = False
        self._renew_at = time.monotonic() + self.seconds / 3

    def expiry(self) -> datetime:
        return timezone.now() + timedelta(seconds=self.seconds)

    def is_lost(self) -> bool:
        if self.lost or time.monotonic() < self._renew_at:
            return self.lost
        self._renew_at = time.monotonic() + self.seconds / 3
        try:
            renewed = GraphExecution.objects.filter(
                pk=self.graph_exec_id,
                lease_owner=self.owner,
                status=GraphExecution.Status.RUNNING,
            ).update(lease_expires_at=self.expiry())
        except Exception:
            logger.exception("lease renewal of %s failed", self.graph_exec_id)
            renewed = 0
        self.lost = not renewed
        return self.lost
