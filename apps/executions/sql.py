"""SQL of the run's hot path: a transaction's statements sent together (Batch: the store's
steps, their multi-row INSERTs and their events) and the worker's relaxed commits
(execute_relaxed).

On PostgreSQL the values are rendered as SQL literals here, by psycopg's own adaptation of each
value, which is what its client-side binding (Django's default) sends anyway. Handed the same
statement with parameters, psycopg parses it for placeholders anew on every call once it has
more than 50 of them (its parse cache stops there): on a long chain, whose steps insert dozens
of rows, that parsing was a quarter of the worker's time. Rendered, the statements of a step
go as one simple query: one round trip instead of one per statement. SQLite gets the
parameters, one statement at a time.
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
    if not _relaxes(relaxed):
        cursor.execute(sql, params)
    elif not _together():  # PostgreSQL with server-side binding
        cursor.execute(_RELAX)
        cursor.execute(sql, params)
    else:
        cursor.execute(f"{sql}; {_RELAX}", params)


def _relaxes(relaxed: bool) -> bool:
    return relaxed and settings.EXECUTION_RELAXED_COMMITS and connection.vendor == "postgresql"


def _together() -> bool:
    """Statements can go as one simple query: PostgreSQL with client-side binding."""
    return connection.vendor == "postgresql" and not connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    )


class Batch:
    """The statements of one transaction, sent together: on PostgreSQL with client-side binding
    (Django's default), rendered with psycopg's own literals and sent as one simple query, one
    round trip however many there are (a worker's step: its node executions' INSERT and
    UPDATEs, their outputs, its events); elsewhere each is executed as it is added. A failed
    statement fails the transaction either way. Whoever makes a batch sends it; a statement
    whose result is read is sent at once, with what was added before it."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.together = _together()
        self.parts: list[bytes] = []
        if self.together:
            self._literal = Transformer.from_context(cursor.cursor).as_literal

    def add(self, sql: str, params: list[Any]) -> None:
        if self.together:
            self.parts.append(self._rendered(_split(sql), params))
        else:
            self.cursor.execute(sql, params)

    def add_many(self, sql: str, rows: list[list[Any]]) -> None:
        """`sql` once per row of parameters."""
        if self.together:
            parts = _split(sql)
            self.parts += [self._rendered(parts, params) for params in rows]
        elif len(rows) == 1:  # a one-row executemany still pays for a pipeline
            self.cursor.execute(sql, rows[0])
        elif rows:
            self.cursor.executemany(sql, rows)

    def add_rows(
        self, statement: tuple[str, str], rows: list[list[Any]], *, per_statement: int
    ) -> None:
        """`{head} VALUES {row}, {row}, …` with `rows` for `statement` (head, row), at most
        `per_statement` rows a statement. `row` is a tuple of %s placeholders (and SQL without
        parameters, e.g. CURRENT_TIMESTAMP)."""
        head, row = statement
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            if self.together:
                self.parts.append(head.encode() + b" " + self.values(row, chunk))
            else:
                self.cursor.execute(
                    f"{head} VALUES {', '.join([row] * len(chunk))}",
                    [value for values in chunk for value in values],
                )

    def values(self, row: str, chunk: list[list[Any]]) -> bytes:
        """`VALUES {row}, {row}, …` with `chunk`'s values as literals (when `together`)."""
        parts = _split(row)
        return b"VALUES " + b", ".join(self._rendered(parts, values) for values in chunk)

    def literal(self, value: Any) -> str:
        """`value` as a SQL literal, as client-side binding sends it (when `together`)."""
        return bytes(self._literal(value)).decode()

    def send(
        self, sql: str | None = None, params: list[Any] | None = None, *, relaxed: bool = False
    ) -> None:
        """Send what was added, then `sql` (if any), leaving the cursor on `sql`'s result;
        `relaxed`: see execute_relaxed."""
        if not self.together:
            if sql is not None:
                execute_relaxed(self.cursor, sql, params, relaxed=relaxed)
            return
        parts, self.parts = self.parts, []
        before = len(parts)
        if sql is not None:
            parts.append(self._rendered(_split(sql), params) if params else sql.encode())
        if _relaxes(relaxed):
            parts.append(_RELAX.encode())
        if not parts:
            return
        self.cursor.execute(b"; ".join(parts))
        if sql is not None:
            for _ in range(before):
                self.cursor.nextset()

    def _rendered(self, parts: list[bytes], values: list[Any]) -> bytes:
        if len(values) != len(parts) - 1:
            raise ValueError(f"{len(values)} values for {len(parts) - 1} placeholders")
        pieces = [parts[0]]
        for value, part in zip(values, parts[1:], strict=True):
            pieces += [b"NULL" if value is None else self._literal(value), part]
        return b"".join(pieces)


def _split(sql: str) -> list[bytes]:
    """`sql` around its %s placeholders."""
    return [part.encode() for part in sql.split("%s")]
