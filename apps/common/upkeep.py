"""Table upkeep where PostgreSQL's autovacuum does not run.

A server started with `autovacuum = off` (this project's CI machine is one) never refreshes a
table's planner statistics nor reclaims its dead rows. The cost is worse than stale estimates:
every connection caches its plans, the foreign-key checks PostgreSQL runs at each commit
included, and a plan made while a table was nearly empty (a fresh VACUUM truncates an emptied
table to no pages) is a sequential scan that stays cached as the table grows. A worker's commit
then scans every node execution once per output it stores, a run costs more the more runs came
before it, and only a new connection or an ANALYZE of the table (which invalidates the plans
that read it) ends it.

So beat asks every TABLE_UPKEEP_INTERVAL_SECONDS (`table_upkeep`): for each of this schema's
tables that autovacuum leaves alone (off on the server, or `autovacuum_enabled = false` on the
table), past autovacuum's own thresholds (the server's `autovacuum_*` settings), it runs what
autovacuum would have: ANALYZE when enough rows changed since the last one, VACUUM (with ANALYZE)
when enough rows died or were inserted since the last one. With autovacuum on it does nothing.

Its VACUUM leaves a table's emptied pages in place (TRUNCATE false) where autovacuum would give
them back: a table a purge emptied would otherwise be planned as the empty table it was for a
moment, with sequential scans again, until the next ANALYZE after it grew. Later rows reuse the
pages.
"""

from dataclasses import dataclass

from django.db import connection

# One upkeep at a time however many beats or workers ask (a session-level advisory lock:
# VACUUM cannot run inside a transaction).
_LOCK = 0x7461626C  # "tabl"

_TABLES = """
SELECT s.relname, s.n_mod_since_analyze, s.n_dead_tup, s.n_ins_since_vacuum,
       GREATEST(c.reltuples, 0)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema()
  AND (current_setting('autovacuum') = 'off'
       OR EXISTS (SELECT 1 FROM unnest(c.reloptions) o
                  WHERE lower(o) IN ('autovacuum_enabled=false', 'autovacuum_enabled=off',
                                     'autovacuum_enabled=0')))
ORDER BY s.relname
"""

_THRESHOLDS = """
SELECT current_setting('autovacuum_analyze_threshold')::float,
       current_setting('autovacuum_analyze_scale_factor')::float,
       current_setting('autovacuum_vacuum_threshold')::float,
       current_setting('autovacuum_vacuum_scale_factor')::float,
       current_setting('autovacuum_vacuum_insert_threshold')::float,
       current_setting('autovacuum_vacuum_insert_scale_factor')::float
"""


@dataclass(frozen=True)
class Thresholds:
    """Autovacuum's rule: a table is due once its count passes base + scale * its rows."""

    analyze: float
    analyze_scale: float
    vacuum: float
    vacuum_scale: float
    inserts: float
    inserts_scale: float


@dataclass(frozen=True)
class TableCounts:
    name: str
    modified: int  # since the last ANALYZE
    dead: int
    inserted: int  # since the last VACUUM
    rows: float  # pg_class.reltuples as of the last VACUUM or ANALYZE

    def needs(self, limits: Thresholds) -> str | None:
        """What autovacuum would run on this table now: "VACUUM", "ANALYZE" or nothing."""
        if self.dead > limits.vacuum + limits.vacuum_scale * self.rows or (
            limits.inserts >= 0
            and self.inserted > limits.inserts + limits.inserts_scale * self.rows
        ):
            return "VACUUM"
        if self.modified > limits.analyze + limits.analyze_scale * self.rows:
            return "ANALYZE"
        return None


def table_upkeep() -> dict[str, str]:
    """Run what autovacuum would on the tables it leaves alone: {table: "VACUUM" | "ANALYZE"}.
    Nothing on SQLite, with autovacuum on, or while another upkeep runs. Call it outside a
    transaction (beat's task does)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return {}
    done: dict[str, str] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK])
        if not cursor.fetchone()[0]:
            return {}
        try:
            cursor.execute(_THRESHOLDS)
            limits = Thresholds(*cursor.fetchone())
            cursor.execute(_TABLES)
            for row in cursor.fetchall():
                table = TableCounts(*row)
                action = table.needs(limits)
                if action is None:
                    continue
                name = connection.ops.quote_name(table.name)
                cursor.execute(
                    f"VACUUM (ANALYZE, TRUNCATE false) {name}"
                    if action == "VACUUM"
                    else f"ANALYZE {name}"
                )
                done[table.name] = action
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK])
    return done
