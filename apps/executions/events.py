"""The events of runs (SPEC §8): their groups, their messages, and the subscriptions a socket may
make to them. They leave through apps.realtime.events.publish, after the commit that makes
them true."""

from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction

from apps.executions import selectors
from apps.executions.models import ExecutionEvent, GraphExecution
from apps.executions.payloads import graph_execution_payload
from apps.executions.sql import Batch
from apps.graphs.runnable import graph_get
from apps.realtime.events import Event, message
from apps.realtime.topics import Topic, topic_register
from apps.users.models import APIKey

GRAPH_EXECUTION_EVENT = "graph_execution_event"
NODE_EXECUTION_EVENT = "node_execution_event"


def execution_group(graph_exec_id: str) -> str:
    return f"exec.{graph_exec_id}"


def graph_group(graph_id: str, user_id: str) -> str:
    """Every run of a graph by one user (runs of a shared graph by others are not theirs)."""
    return f"graph.{graph_id}.{user_id}"


def events_record(
    graph_exec_id: Any,
    entries: Sequence[tuple[str, Any]],
    *,
    first_seq: int | None = None,
    relaxed: bool = False,
    batch: Batch | None = None,
) -> list[int]:
    """Store a run's events, (method, data) in order, inside the caller's transaction (the one
    that makes them true) and answer their `seq`s: one UPDATE … RETURNING raises the run's
    counter (its row lock orders concurrent writers, so `seq` follows commit order), one INSERT
    logs them. A run that is gone gets none (an empty list).

    `first_seq`: the caller's transaction inserted the run, with its counter already past these
    events (run creation: nobody else sees the run before the commit); no UPDATE then.
    `relaxed`: see sql.execute_relaxed. `batch`: the caller's, to which these are added (the
    counter's bump, whose result is read, sends it at once)."""
    with connection.cursor() as cursor:
        own = batch is None
        batch = batch or Batch(cursor)
        if not entries:
            return []
        pk = GraphExecution._meta.pk.get_db_prep_value(graph_exec_id, connection)
        if first_seq is None and batch.together:
            return _bumped_and_logged(batch, pk, entries, relaxed)
        if first_seq is None:
            batch.send(_BUMP, [len(entries), pk], relaxed=relaxed)
            row = batch.cursor.fetchone()
            if row is None:
                return []
            first_seq = row[0] - len(entries) + 1
        seqs = list(range(first_seq, first_seq + len(entries)))
        prep = ExecutionEvent._meta.get_field("data").get_db_prep_save
        values = [
            [pk, seq, method, prep(data, connection)]
            for seq, (method, data) in zip(seqs, entries, strict=True)
        ]
        batch.add_rows((_LOG, "(%s, %s, %s, %s)"), values, per_statement=_ROWS_PER_INSERT)
        if own:
            batch.send()
    return seqs


def _bumped_and_logged(
    batch: Batch, pk: Any, entries: Sequence[tuple[str, Any]], relaxed: bool
) -> list[int]:
    """events_record's UPDATE and INSERT in one statement: the counter's new value goes to the
    INSERT within it (a data-modifying WITH), sent with the rest of the batch."""
    prep = ExecutionEvent._meta.get_field("data").get_db_prep_save
    count = len(entries)
    values = batch.values(
        "(%s, %s, %s)",
        [[k, method, prep(data, connection)] for k, (method, data) in enumerate(entries, 1)],
    )
    sql = _BUMP_AND_LOG.format(count=count, pk=batch.literal(pk), values=values.decode())
    batch.send(sql, relaxed=relaxed)
    row = batch.cursor.fetchone()
    if row is None:
        return []
    return list(range(row[0] - count + 1, row[0] + 1))


def _sequenced(method: str, data: Any, group: str, seq: int | None) -> dict[str, Any]:
    return {**message(method, data, group), "seq": seq}


def _graph_events(execution: GraphExecution, data: Any, seq: int | None) -> list[Event]:
    return [
        (group, _sequenced(GRAPH_EXECUTION_EVENT, data, group, seq))
        for group in (
            execution_group(str(execution.id)),
            graph_group(str(execution.graph_id), str(execution.user_id)),
        )
    ]


def graph_execution_event_record(
    execution: GraphExecution, *, seq: int | None = None, batch: Batch | None = None
) -> list[Event]:
    """A run's status change, stored with its `seq` (in the caller's transaction, or its own),
    to send to the run's own group and its graph's after that commit. `seq`: see events_record's
    `first_seq`; `batch`: its `batch`."""
    data = graph_execution_payload(execution)
    with transaction.atomic(savepoint=False):
        seqs = events_record(
            execution.id, [(GRAPH_EXECUTION_EVENT, data)], first_seq=seq, batch=batch
        )
    return _graph_events(execution, data, seqs[0] if seqs else None)


def final_event_sent_key(graph_exec_id: Any) -> str:
    """Set in Redis, with the final event's publication, by the worker that ended the run: the
    watchdog sends again only the final events of recently ended runs that lack it."""
    return f"autogpt:final-sent:{graph_exec_id}"


def graph_execution_final_event(execution: GraphExecution) -> list[Event]:
    """The run's last stored status event as it was first sent, its `seq` included (the
    watchdog sends it again; clients drop the repeat by its `seq`)."""
    stored = (
        ExecutionEvent.objects.filter(graph_execution=execution, method=GRAPH_EXECUTION_EVENT)
        .order_by("-seq")
        .values_list("seq", "data")
        .first()
    )
    if stored is None:
        return []
    return _graph_events(execution, stored[1], stored[0])


def node_execution_events_record(
    graph_exec_id: Any,
    payloads: list[dict[str, Any]],
    *,
    first_seq: int | None = None,
    relaxed: bool = False,
    batch: Batch | None = None,
) -> list[Event]:
    """Node executions' changes (apps.executions.payloads.node_execution_payload), stored with
    their `seq`s in the caller's transaction, to send to the run's group in the order given.
    `first_seq`, `relaxed`, `batch`: see events_record."""
    group = execution_group(str(graph_exec_id))
    entries = [(NODE_EXECUTION_EVENT, data) for data in payloads]
    seqs: list[int | None] = [
        *events_record(graph_exec_id, entries, first_seq=first_seq, relaxed=relaxed, batch=batch)
    ]
    return [
        (group, _sequenced(NODE_EXECUTION_EVENT, payload, group, seq))
        for payload, seq in zip(payloads, seqs or [None] * len(payloads), strict=True)
    ]


def execution_events_since(
    user: Any, graph_exec_id: str, since_seq: int
) -> tuple[list[dict[str, Any]], int]:
    """The run's stored events after `since_seq`, in order, as they were sent to its group, and
    the last `seq` the run had by then (every live event up to it is old to this subscriber)."""
    execution = selectors.graph_execution_get(user=user, graph_exec_id=graph_exec_id)
    group = execution_group(str(execution.id))
    rows = (
        ExecutionEvent.objects.filter(graph_execution=execution, seq__gt=since_seq)
        .order_by("seq")
        .values_list("seq", "method", "data")
    )
    messages = [_sequenced(method, data, group, seq) for seq, method, data in rows]
    return messages, max([execution.event_seq, *(seq for seq, _, _ in rows)])


# Only table names are interpolated (the models' own); every value is a parameter.
_BUMP = (
    f"UPDATE {GraphExecution._meta.db_table} SET event_seq = event_seq + %s WHERE id = %s"
    " RETURNING event_seq"
)
_LOG = f"INSERT INTO {ExecutionEvent._meta.db_table} (graph_execution_id, seq, method, data)"
_ROWS_PER_INSERT = 200  # SQLite allows 999 parameters
# The two above in one statement (_bumped_and_logged): only the count and literals rendered by
# psycopg are interpolated.
_BUMP_AND_LOG = (
    f"WITH bumped AS (UPDATE {GraphExecution._meta.db_table} SET event_seq = event_seq + {{count}}"
    " WHERE id = {pk} RETURNING event_seq),"
    f" logged AS ({_LOG} SELECT {{pk}}, bumped.event_seq - {{count}} + v.k, v.method, v.data"
    " FROM bumped, ({values}) AS v (k, method, data))"
    " SELECT event_seq FROM bumped"
)


def _execution_group_of(user: Any, graph_exec_id: str) -> str:
    execution = selectors.graph_execution_get(user=user, graph_exec_id=graph_exec_id)
    return execution_group(str(execution.id))


def _graph_group_of(user: Any, graph_id: str) -> str:
    graph = graph_get(user=user, graph_id=graph_id)
    return graph_group(str(graph.id), str(user.pk))


def topics_register() -> None:
    """What `/ws` offers of runs (called from ExecutionsConfig.ready). The runs' events are what
    GET /api/executions/{id} answers, so an API key needs READ_GRAPH, as there."""
    topic_register(
        Topic(
            method="subscribe_graph_execution",
            key="graph_exec_id",
            permission=APIKey.Permission.READ_GRAPH,
            resolve=_execution_group_of,
            group=lambda user, graph_exec_id: execution_group(graph_exec_id),
            replay=execution_events_since,
        )
    )
    topic_register(
        Topic(
            method="subscribe_graph_executions",
            key="graph_id",
            permission=APIKey.Permission.READ_GRAPH,
            resolve=_graph_group_of,
            group=lambda user, graph_id: graph_group(graph_id, str(user.pk)),
        )
    )
