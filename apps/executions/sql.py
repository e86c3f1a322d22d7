"""Multi-row INSERTs for the run's hot path (the store's steps and their events).

On PostgreSQL the values are rendered as SQL literals here, by psycopg's own adaptation of each
value, which is what its client-side binding (Django's default) sends anyway. Handed the same
statement with parameters, psycopg parses it for placeholders anew on every call once it has
more than 50 of them (its parse cache stops there): on a long chain, whose steps insert dozens
of rows, that parsing was a quarter of the worker's time. SQLite gets the parameters.
"""

from typing import Any

from django.db import connection
from psycopg.adapt import Transformer


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
    return head.encode() + b" VALUES " + b", ".join(rendered)
