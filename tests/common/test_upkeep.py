"""Table upkeep where autovacuum does not run (apps.common.upkeep): what autovacuum would run,
when it would, and the stale cached plan it ends."""

import time
import uuid
from collections.abc import Callable, Iterator

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


@pytest.fixture
def unwatched(transactional_db) -> Iterator[None]:
    """Autovacuum leaves the table alone whatever the server's own setting."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} SET (autovacuum_enabled = false)")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} RESET (autovacuum_enabled)")


@pytest.fixture
def lookup(unwatched) -> Iterator[Callable[[], str]]:
    """A lookup by key with a generic plan, made when it is first executed and cached from then
    on; answers the plan it runs now."""
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        prepared = f"PREPARE lookup(uuid) AS SELECT 1 FROM {TABLE} WHERE id = $1"  # noqa: S608
        cursor.execute(prepared)

        def plan() -> str:
            cursor.execute(f"EXPLAIN EXECUTE lookup('{uuid.uuid4()}')")
            return "\n".join(row[0] for row in cursor.fetchall())

        try:
            yield plan
        finally:
            cursor.execute("DEALLOCATE ALL")
            cursor.execute("RESET plan_cache_mode")


def _changed(count: int) -> None:
    """Wait until the statistics views show `count` rows of the table changed since its last
    ANALYZE (backends report them after their transactions, at most once a second)."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = %s", [TABLE]
            )
            if cursor.fetchone()[0] >= count or time.monotonic() > deadline:
                return
            time.sleep(0.2)


def _insert(owner: User, count: int) -> None:
    Notification.objects.bulk_create(
        Notification(user=owner, type="agent_run", title="x", dedupe_key=str(n))
        for n in range(count)
    )
    _changed(count)


@postgresql
def test_it_ends_a_plan_cached_while_the_table_was_empty(
    owner: User, unwatched: None, lookup: Callable[[], str]
) -> None:
    """What stalled the benchmark: a lookup by key planned while the table had no pages stays a
    sequential scan as the table grows, until an ANALYZE invalidates it."""
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {TABLE}")  # empty: truncated to no pages
    assert "Seq Scan" in lookup()  # planned now, on an empty table

    _insert(owner, 5_000)
    assert "Seq Scan" in lookup()  # still: the cached plan outlived the growth

    assert table_upkeep()[TABLE] == "VACUUM"  # 5,000 inserts since the last VACUUM
    assert "Index" in lookup()
    assert table_upkeep().get(TABLE) is None  # nothing more due


@postgresql
def test_one_upkeep_runs_at_a_time(owner: User, unwatched: None) -> None:
    _insert(owner, 200)
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [_LOCK])
        assert table_upkeep() == {}  # another one is at work
    assert TABLE in table_upkeep()


@postgresql
def test_a_table_it_vacuums_empty_is_still_planned_as_the_table_it_was(
    owner: User, unwatched: None, lookup: Callable[[], str]
) -> None:
    """A purge then a VACUUM must not leave plans of an empty table behind (autovacuum's
    VACUUM would: it gives the emptied pages back)."""
    _insert(owner, 5_000)
    table_upkeep()
    Notification.objects.all().delete()
    _changed(5_000)
    assert table_upkeep()[TABLE] == "VACUUM"  # 5,000 dead rows

    assert "Index" in lookup()  # planned now, on the emptied table
