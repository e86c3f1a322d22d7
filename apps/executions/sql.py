"""SQL of the run's hot path: multi-row INSERTs (the store's steps and their events) and the
worker's relaxed commits (execute_relaxed).

On PostgreSQL the values are rendered as SQL literals here, by psycopg's own adaptation of each
value, which is what its client-side binding (Django's default) sends anyway. Handed the same
statement with parameters, psycopg parses it for placeholders anew on every call once it has
more than 50 of them (its parse cache stops there): on a long chain, whose steps insert dozens
of rows, that parsing was a quarter of the worker's time. SQLite gets the parameters.
"""

from typing import Any

from django.conf import settings
from django.db import connection
from psycopg.adapt import Transformer

_RELAX = "SET LOCAL synchronous_commit TO OFF"


def execute_relaxed(
    cursor: Any, sql: str, params: list[Any] | None, *, relaxed: bool = True
) -> None:
    """Execute `sql` and (`relaxed`) let the current PostgreSQL transaction commit without
    waiting for its WAL flush.

    Only for a run's own progress in the worker (lease, node steps, final status): PostgreSQL
    stays consistent, and a database crash can lose at most its last fraction of a second of
    them, after which the run resumes from its last durable step, as after a lost worker. Run
    creation and the credit ledger always wait for the flush. The embedded SQLite works this
    way throughout (WAL with synchronous=NORMAL). EXECUTION_RELAXED_COMMITS=false turns it off.

    The setting is read at COMMIT, so it rides behind `sql` in the same round trip: psycopg's
    client-side binding (Django's default) sends both in one simple query and the cursor reads
    the first one's result (its rows, its rowcount). Server-side binding takes one statement at
    a time: the setting is sent on its own then.
    """
    if not (relaxed and settings.EXECUTION_RELAXED_COMMITS and connection.vendor == "postgresql"):
        cursor.execute(sql, params)
    elif connection.settings_dict["OPTIONS"].get("server_side_binding"):
        cursor.execute(_RELAX)
        cursor.execute(sql, params)
    else:
        cursor.execute(f"{sql}; {_RELAX}", params)


def insert_rows(
    cursor: Any, head: str, row: str, rows: list[list[Any]], *, per_statement: int
) -> None:
    """`{head} VALUES {row}, {row}, …` with `rows`, at most `per_statement` rows a statement.
    `row` is a tuple of %s placeholders (and SQL without parameters, e.g. CURRENT_TIMESTAMP)."""
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        if connection.vendor == "postgresql":
            cursor.execute(_rendered(cursor, head, row, chunk))
        else:
            cursor.execute(
                f"{head} VALUES {', '.join([row] * len(chunk))}",
                [value for values in chunk for value in values],
            )


def _rendered(cursor: Any, head: str, row: str, chunk: list[list[Any]]) -> bytes:
    return head.encode() + b" " + values_rendered(cursor, row, chunk)


def literal(cursor: Any, value: Any) -> str:
    """`value` as a SQL literal, as psycopg's client-side binding would send it (PostgreSQL)."""
    return bytes(Transformer.from_context(cursor.cursor).as_literal(value)).decode()


def values_rendered(cursor: Any, row: str, chunk: list[list[Any]]) -> bytes:
    """`VALUES {row}, {row}, …` with `chunk`'s values as SQL literals (PostgreSQL only)."""
    literal = Transformer.from_context(cursor.cursor).as_literal
    parts = [part.encode() for part in row.split("%s")]
    rendered = []
    for values in chunk:
        if len(values) != len(parts) - 1:
            raise ValueError(f"{len(values)} values for {len(parts) - 1} placeholders")
        pieces = [parts[0]]
        for value, part in zip(values, parts[1:], strict=True):
            pieces += [b"NULL" if value is None else literal(value), part]
        rendered.append(b"".join(pieces))
    return b"VALUES " + b", ".join(rendered)
