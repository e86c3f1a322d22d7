"""Table upkeep where autovacuum does not run (apps.common.upkeep): what autovacuum would run,
when it would, and the stale cached plan it ends."""

import time
import uuid

import psycopg
import pytest
from django.db import connection

from apps.common.upkeep import _LOCK, TableCounts, Thresholds, table_upkeep
from apps.notifications.models import Notification
from apps.users.models import User

# PostgreSQL's defaults.
LIMITS = Thresholds(
    analyze=50, analyze_scale=0.1, vacuum=50, vacuum_scale=0.2, inserts=1000, inserts_scale=0.2
)


def _counts(*, modified: int = 0, dead: int = 0, inserted: int = 0, rows: float = 0) -> TableCounts:
    return TableCounts("t", modified=modified, dead=dead, inserted=inserted, rows=rows)


def test_a_table_is_due_past_autovacuums_own_thresholds() -> None:
    assert _counts(modified=50).needs(LIMITS) is None
    assert _counts(modified=51).needs(LIMITS) == "ANALYZE"
    # 10% of its rows changed, beyond the base 50.
    assert _counts(modified=1_000, rows=10_000).needs(LIMITS) is None
    assert _counts(modified=1_051, rows=10_000).needs(LIMITS) == "ANALYZE"
    # Dead rows or inserts since the last VACUUM call for one (which analyzes as well).
    assert _counts(modified=2_000, dead=2_051, rows=10_000).needs(LIMITS) == "VACUUM"
    assert _counts(inserted=3_001, rows=10_000).needs(LIMITS) == "VACUUM"
    assert _counts(inserted=3_000, rows=10_000).needs(LIMITS) is None
    # autovacuum_vacuum_insert_threshold = -1 turns insert-driven vacuums off.
    no_inserts = Thresholds(**{**LIMITS.__dict__, "inserts": -1})
    assert _counts(inserted=10**6).needs(no_inserts) is None


def test_on_sqlite_or_inside_a_transaction_it_does_nothing(db) -> None:
    # The `db` fixture wraps the test in a transaction: VACUUM could not run there.
    assert table_upkeep() == {}


postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="autovacuum is PostgreSQL's"
)
TABLE = Notification._meta.db_table


def _count_flushed(table: str, expected: int) -> None:
    """Wait until the statistics views show the table's inserts (backends report them after
    their transactions, at most once a second)."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = %s", [table]
            )
            if cursor.fetchone()[0] >= expected or time.monotonic() > deadline:
                return
            time.sleep(0.2)


def _plan(cursor) -> str:
    cursor.execute(f"EXPLAIN EXECUTE lookup('{uuid.uuid4()}')")
    return "\n".join(row[0] for row in cursor.fetchall())


@postgresql
@pytest.mark.django_db(transaction=True)
def test_it_ends_a_plan_cached_while_the_table_was_empty(owner: User) -> None:
    """What stalled the benchmark: a lookup by key planned while the table had no pages stays a
    sequential scan as the table grows, until an ANALYZE invalidates it."""
    with connection.cursor() as cursor:
        # Whatever the server's own setting: autovacuum leaves this table alone.
        cursor.execute(f"ALTER TABLE {TABLE} SET (autovacuum_enabled = false)")
        try:
            cursor.execute(f"VACUUM (ANALYZE) {TABLE}")  # empty: truncated to no pages
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            lookup = f"PREPARE lookup(uuid) AS SELECT 1 FROM {TABLE} WHERE id = $1"  # noqa: S608
            cursor.execute(lookup)
            assert "Seq Scan" in _plan(cursor)  # planned now, on an empty table

            Notification.objects.bulk_create(
                Notification(user=owner, type="agent_run", title="x", dedupe_key=str(n))
                for n in range(5_000)
            )
            _count_flushed(TABLE, 5_000)
            assert "Seq Scan" in _plan(cursor)  # still: the cached plan outlived the growth

            done = table_upkeep()
            assert done[TABLE] == "VACUUM"  # 5,000 inserts since the last VACUUM
            assert "Index" in _plan(cursor)
            assert table_upkeep().get(TABLE) is None  # nothing more due
        finally:
            cursor.execute("DEALLOCATE ALL")
            cursor.execute("RESET plan_cache_mode")
            cursor.execute(f"ALTER TABLE {TABLE} RESET (autovacuum_enabled)")


@postgresql
@pytest.mark.django_db(transaction=True)
def test_one_upkeep_runs_at_a_time(owner: User) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} SET (autovacuum_enabled = false)")
    try:
        Notification.objects.bulk_create(
            Notification(user=owner, type="agent_run", title="x", dedupe_key=str(n))
            for n in range(200)
        )
        _count_flushed(TABLE, 200)
        params = connection.get_connection_params()
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute("SELECT pg_advisory_lock(%s)", [_LOCK])
            assert table_upkeep() == {}  # another one is at work
        assert TABLE in table_upkeep()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {TABLE} RESET (autovacuum_enabled)")


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_table_it_vacuums_empty_is_still_planned_as_the_table_it_was(owner: User) -> None:
    """A purge then a VACUUM must not leave plans of an empty table behind (autovacuum's
    VACUUM would: it gives the emptied pages back)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} SET (autovacuum_enabled = false)")
        try:
            Notification.objects.bulk_create(
                Notification(user=owner, type="agent_run", title="x", dedupe_key=str(n))
                for n in range(5_000)
            )
            _count_flushed(TABLE, 5_000)
            table_upkeep()
            Notification.objects.all().delete()
            _count_flushed(TABLE, 5_000)
            assert table_upkeep()[TABLE] == "VACUUM"  # 5,000 dead rows

            cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute(f"PREPARE lookup(uuid) AS SELECT 1 FROM {TABLE} WHERE id = $1")  # noqa: S608
            assert "Index" in _plan(cursor)
        finally:
            cursor.execute("DEALLOCATE ALL")
            cursor.execute("RESET plan_cache_mode")
            cursor.execute(f"ALTER TABLE {TABLE} RESET (autovacuum_enabled)")
