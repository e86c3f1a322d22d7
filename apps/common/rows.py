"""Model instances from the rows of plain SQL, and to them, for the few rows on every request's
or run's path.

`Model.objects.raw()` works out, on every query, which column goes to which field and which
converters apply; on the API key's lookup that bookkeeping cost more than the query (measured:
a fifth of the web's CPU on `GET /api/credits`). A `Columns` does it once per process. The
ORM's `save(force_insert=True)` likewise builds its INSERT anew each time (a tenth of the
web's time on a run's start).
"""

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, Generic, TypeVar, cast

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


class Columns(Generic[M]):
    """All concrete columns of `model` under the table alias `alias`: `sql` for a SELECT list,
    `read()` for the instance made of those values (a slice of a row)."""

    def __init__(self, model: type[M], alias: str) -> None:
        self.model, self.alias = model, alias
        self.fields = model._meta.concrete_fields
        self.attnames = [field.attname for field in self.fields]

    @property
    def sql(self) -> str:
        quote = connection.ops.quote_name
        # Concrete fields all have their column.
        return ", ".join(f"{self.alias}.{quote(cast(str, field.column))}" for field in self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    @cached_property
    def _converters(self) -> list[tuple[int, Any, list[Callable[..., Any]]]]:
        """What the ORM's compiler applies to each column: the backend's converters, then the
        field's (e.g. JSON text to objects, SQLite's text to UUIDs and datetimes)."""
        found = []
        for index, field in enumerate(self.fields):
            column = field.get_col(self.alias)
            applied = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            if applied:
                found.append((index, column, applied))
        return found

    def insert(
        self, instance: M, execute: Callable[[str, list[Any]], object] | None = None
    ) -> None:
        """INSERT `instance` as `save(force_insert=True)` would (each field's `pre_save`, e.g.
        `auto_now_add`, and its database value), but sends no model signals: only for models
        nothing listens to. `execute(sql, params)`: the caller's way to send it (a batch of
        statements, say) instead of a cursor of its own."""
        values = []
        for field in self.fields:
            value = field.pre_save(instance, add=True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"{field.name}: an expression (a db_default?) is not a value")
            values.append(field.get_db_prep_save(value, connection))
        if execute is not None:
            execute(self._insert_sql, values)
        else:
            with connection.cursor() as cursor:
                cursor.execute(self._insert_sql, values)
        instance._state.adding, instance._state.db = False, connection.alias

    @cached_property
    def _insert_sql(self) -> str:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(cast(str, field.column)) for field in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        table = quote(self.model._meta.db_table)
        # The model's own table and column names; every value is a parameter.
        return f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608

    def read(self, values: Sequence[Any]) -> M:
        converted = list(values)
        for index, column, applied in self._converters:
            for converter in applied:
                converted[index] = converter(converted[index], column, connection)
        return self.model.from_db(connection.alias, self.attnames, converted)
